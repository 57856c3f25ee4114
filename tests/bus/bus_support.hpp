// What the bus tests share: connection options with short waits, polling for an outcome with a
// bound, unique stream names, and one server (or cluster) per mode for the tests that do not
// stop servers.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "adapters/nats/jetstream.hpp"
#include "support/nats_test_server.hpp"

namespace orderflow::testing::bus {

using namespace std::chrono_literals;
using adapters::nats::ConnectOptions;
using adapters::nats::JetStream;
using test_support::NatsTestCluster;

// Short timeouts and reconnect pauses, so that an outage test is over in seconds.
inline ConnectOptions options_for(const std::string& servers) {
  ConnectOptions o;
  o.servers = servers;
  o.name = "bus_tests";
  o.connect_timeout = 500ms;
  o.request_timeout = 2s;
  o.reconnect_wait = 50ms;
  o.reconnect_wait_max = 250ms;
  return o;
}

// Polls `done` until it holds or `limit` passed; says which.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

inline std::unique_ptr<JetStream> connect(const std::string& servers) {
  auto js = std::make_unique<JetStream>(options_for(servers));
  EXPECT_TRUE(eventually([&] { return js->connected(); })) << "no connection to " << servers;
  return js;
}

// A stream name (and subject prefix) no other test uses, e.g. "Orders_PublishTwice_3".
inline std::string unique_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(info->test_suite_name()) + "_" + info->name();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// "single" or "cluster", for tests parameterised by the number of nodes.
inline std::string mode_name(const ::testing::TestParamInfo<int>& param) {
  return param.param == 1 ? "single" : "cluster";
}

// The servers of one mode (1 node or 3), started on first use and stopped when the test
// program ends; tests that stop servers start their own.
NatsTestCluster& shared_cluster(int nodes);

}  // namespace orderflow::testing::bus
