// The `bus` setting: which server lists are accepted, what the credentials become, and that a
// bad one stops start-up with a message that names the setting and never shows a password.
#include <gtest/gtest.h>

#include <string>

#include "adapters/nats/jetstream.hpp"

namespace orderflow::testing::bus {
namespace {

using adapters::nats::ConnectOptions;
using adapters::nats::JetStream;
using adapters::nats::parse_servers;
using ports::InfraError;

ConnectOptions servers(const std::string& list) {
  ConnectOptions o;
  o.servers = list;
  return o;
}

TEST(BusServers, ParsesAListWithDefaultsAndCredentials) {
  const auto list =
      parse_servers(servers(" nats://a.example:4223, nats://u:p%40ss@10.0.0.2 ,nats://[::1]:4224"));
  EXPECT_EQ(list.urls, (std::vector<std::string>{"nats://a.example:4223", "nats://10.0.0.2:4222",
                                                 "nats://[::1]:4224"}));
  EXPECT_EQ(list.user, "u");
  EXPECT_EQ(list.password, "p@ss");
  EXPECT_TRUE(list.token.empty());
  EXPECT_FALSE(list.tls);
}

TEST(BusServers, TokenTlsAndExplicitCredentials) {
  const auto token = parse_servers(servers("tls://s3cr3t@host:4443/"));
  EXPECT_EQ(token.urls, std::vector<std::string>{"tls://host:4443"});
  EXPECT_EQ(token.token, "s3cr3t");
  EXPECT_TRUE(token.tls);

  auto o = servers("nats://url-user:url-pass@host");
  o.user = "explicit";
  o.password = "pw";
  const auto explicit_wins = parse_servers(o);
  EXPECT_EQ(explicit_wins.user, "explicit");
  EXPECT_EQ(explicit_wins.password, "pw");
  EXPECT_EQ(explicit_wins.urls, std::vector<std::string>{"nats://host:4222"});
}

class BadBusSetting : public ::testing::TestWithParam<std::string> {};

TEST_P(BadBusSetting, IsAPermanentErrorNamingTheSettingWithoutThePassword) {
  for (const bool through_constructor : {false, true}) {
    try {
      if (through_constructor) {
        JetStream js(servers(GetParam()));
      } else {
        parse_servers(servers(GetParam()));
      }
      ADD_FAILURE() << "accepted: " << GetParam();
    } catch (const InfraError& e) {
      EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
      EXPECT_EQ(std::string(e.what()).rfind("bus: ", 0), 0u) << e.what();
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Lists, BadBusSetting,
                         ::testing::Values("", "   ", "nats://", "http://x", "x:4222",
                                           "nats://host:99999", "nats://host:port",
                                           "nats://host/path", "nats://a:4222,,nats://b:4222",
                                           "nats://u:hunter2@", "http://u:hunter2@host",
                                           "nats://u:hunter2@:4222",
                                           "nats://u:hunter2@a,nats://v:other@b", "nats://ho st"));

TEST(BusServers, MissingFilesArePermanentErrors) {
  for (auto field : {&ConnectOptions::credentials_file, &ConnectOptions::ca_file}) {
    auto o = servers("nats://127.0.0.1:4222");
    o.*field = "/nonexistent/orderflow.file";
    try {
      JetStream js(o);
      ADD_FAILURE() << "accepted a missing file";
    } catch (const InfraError& e) {
      EXPECT_EQ(e.kind(), InfraError::Kind::permanent);
      EXPECT_NE(std::string(e.what()).find("/nonexistent/orderflow.file"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace orderflow::testing::bus
