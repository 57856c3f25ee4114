// NATS servers with JetStream for tests: one node or a 3-node cluster on free loopback ports,
// run by scripts/nats-server.sh in a fresh temp dir and stopped by PID when the object goes.
// The monitoring endpoints (http://127.0.0.1:<port>/jsz, /healthz) tell what the servers see.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace orderflow::test_support {

class NatsTestCluster {
 public:
  NatsTestCluster();   // nothing runs yet
  ~NatsTestCluster();  // stops every node (TERM, then KILL)
  NatsTestCluster(const NatsTestCluster&) = delete;
  NatsTestCluster& operator=(const NatsTestCluster&) = delete;

  // Starts 1 or 3 nodes and returns once JetStream answers on each (for a cluster: a meta
  // leader is elected). Throws std::runtime_error with the script's output on failure.
  void start(int nodes = 1);
  // Only chooses the ports and writes the configs: urls() are known, nothing runs until
  // start_nodes() (for a client that must come up before any server does).
  void init(int nodes = 1);
  void stop();  // every node; the store stays, so start_node() brings a node back with its data

  int nodes() const { return nodes_; }
  const std::string& urls() const { return urls_; }  // nats://127.0.0.1:P1,nats://...
  std::string url(int node) const;
  std::string monitor_url(int node) const;  // http://127.0.0.1:<monitoring port>

  void kill_node(int node);  // SIGKILL
  void start_node(int node) { start_nodes({node}); }
  // Same ports and store; returns once the nodes are healthy (a stopped cluster needs a quorum
  // back at once to be healthy again).
  void start_nodes(const std::vector<int>& nodes);

  // GET monitor_url(node) + path, parsed; nothing when the node does not answer.
  std::optional<boost::json::value> monitor(int node, const std::string& path) const;
  // The stream as `node` sees it (jsz stream_detail with config), if it knows the stream.
  std::optional<boost::json::object> stream_detail(int node, const std::string& stream) const;
  // The node that leads the stream by its own account (0 on a single node); -1 while none does.
  int stream_leader(const std::string& stream) const;

  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  std::string run(const std::vector<std::string>& args) const;
  std::filesystem::path root() const { return dir_.path() / "nats"; }  // the script's DIR
  std::string node_file(int node, const char* name) const;

  TempDir dir_{"orderflow-nats"};
  int nodes_ = 0;
  std::string urls_;
  std::set<int> down_;  // killed and not started again
};

}  // namespace orderflow::test_support
