#include "bus/bus_support.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

namespace orderflow::testing::bus {
namespace {

struct Shared {
  std::mutex mutex;
  std::map<int, std::unique_ptr<NatsTestCluster>> clusters;
  std::map<int, std::string> failures;  // a start that failed fails every test of that mode
};

Shared& shared() {
  static Shared instance;
  return instance;
}

class StopSharedClusters : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(shared().mutex);
    shared().clusters.clear();
  }
};

[[maybe_unused]] const auto* const registered =
    ::testing::AddGlobalTestEnvironment(new StopSharedClusters);

}  // namespace

NatsTestCluster& shared_cluster(int nodes) {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  if (const auto f = s.failures.find(nodes); f != s.failures.end())
    throw std::runtime_error(f->second);
  auto& cluster = s.clusters[nodes];
  if (!cluster) {
    try {
      auto started = std::make_unique<NatsTestCluster>();
      started->start(nodes);
      cluster = std::move(started);
    } catch (const std::exception& e) {
      s.failures[nodes] = e.what();
      s.clusters.erase(nodes);
      throw;
    }
  }
  return *cluster;
}

}  // namespace orderflow::testing::bus
