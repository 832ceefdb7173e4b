// Allocations end to end (docs/allocations.md): a real master and worker, the `cloudai
// alloc` verbs, a task run inside an allocation, a service started for it and reached on
// its port, a master restart with the lease intact, release (twice), and a TTL that
// expires.
#include <signal.h>

#include <fstream>
#include <thread>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

class AllocationsTest : public ClusterTest {
 protected:
  // A catalog with one real service: a tiny HTTP server on $PORT.
  std::vector<std::string> MasterFlags() {
    const std::string catalog = dir().Sub("services.json");
    std::ofstream(catalog)
        << R"({"services": [{"name": "web", "command": "exec python3 -m http.server $PORT --bind 127.0.0.1",)"
        << R"( "cpu": 100, "memory": 256}]})";
    return {"--services-file", catalog, "--allocation-sweep-interval", "1h",
            "--service-idle-timeout", "0s", "--service-ports", "19100-19199"};
  }

  // Whether something accepts connections at a "127.0.0.1:port" endpoint.
  static bool CanConnect(const std::string& endpoint) {
    constexpr std::string_view kLoopback = "127.0.0.1:";
    if (endpoint.rfind(kLoopback, 0) != 0) return false;
    return PortAcceptsConnections(std::atoi(endpoint.c_str() + kLoopback.size()));
  }

  std::optional<Json> Allocation(const std::string& id) { return CliJson({"alloc", "get", id}); }
};

TEST_F(AllocationsTest, ALeaseRunsTasksAndAServiceSurvivesARestartAndIsReleasedOnce) {
  ASSERT_TRUE(StartMaster(MasterFlags()));
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);

  std::optional<Json> requested =
      CliJson({"alloc", "request", "job-1", "-workers", "2", "-cpu_cores", "0.2", "-mem", "0.1",
               "-storage", "0.01", "-ttl", "1h", "-service", "web", "-meta", "team=vision"});
  ASSERT_TRUE(requested.has_value());
  const std::string id = (*requested)["allocation_id"];
  EXPECT_EQ((*requested)["state"], "active");
  ASSERT_EQ((*requested)["slots"].size(), 2u);
  EXPECT_EQ((*requested)["slots"][0]["worker_id"], "w1");
  EXPECT_EQ((*requested)["metadata"]["team"], "vision");
  const std::string expires = (*requested)["expires_at_ms"].dump();

  // The service runs on a port of the range, on the worker's host.
  std::string endpoint;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::optional<Json> a = Allocation(id);
        if (!a || (*a)["endpoints"].empty()) return false;
        endpoint = (*a)["endpoints"][0]["endpoint"];
        return (*a)["endpoints"][0]["status"] == "running" && CanConnect(endpoint);
      },
      seconds(20)))
      << "service endpoint " << endpoint;
  EXPECT_EQ(endpoint.rfind("127.0.0.1:191", 0), 0u) << endpoint;

  // A task inside the lease runs in a slot; one too big for a slot is refused at once.
  ASSERT_EQ(Cli({"submit", "--alloc", id, "--id", "inside", "-cpu_cores", "0.1", "-mem", "0.05",
                 "-storage", "0.01", kAnyImage, "--", "echo ran-in-allocation"})
                .exit_code,
            0);
  std::optional<Json> done = WaitForTaskState("inside", {"completed", "failed"}, seconds(20));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ((*done)["status"], "completed");
  EXPECT_EQ((*done)["task"]["allocation_id"], id);
  CommandResult logs = Cli({"logs", "inside"});
  EXPECT_NE(logs.out.find("ran-in-allocation"), std::string::npos) << logs.out;
  CommandResult too_big = Cli({"submit", "--alloc", id, "-cpu_cores", "0.5", "-mem", "0.05",
                               "-storage", "0.01", kAnyImage, "--", "true"});
  EXPECT_NE(too_big.exit_code, 0);
  EXPECT_NE(too_big.err.find("does not fit in a slot"), std::string::npos) << too_big.err;

  // The worker's allocation holds the two slots and the service.
  WorkerResources held = ResourcesOf(*WorkerStatus("w1"));
  EXPECT_EQ(held.allocated.cpu, 2 * 200 + 100);

  // A master killed and restarted keeps the lease, its expiry and its accounting.
  ASSERT_TRUE(master()->Signal(SIGKILL));
  ASSERT_TRUE(master()->Wait(seconds(10)).has_value());
  ASSERT_TRUE(StartMaster(MasterFlags()));
  ASSERT_TRUE(WaitWorkerActive("w1", true, seconds(20)));
  std::optional<Json> restored = Allocation(id);
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ((*restored)["state"], "active");
  EXPECT_EQ((*restored)["expires_at_ms"].dump(), expires);
  EXPECT_EQ(ResourcesOf(*WorkerStatus("w1")).allocated.cpu, 2 * 200 + 100);

  // Released once: slots freed, its service idle and then stopped; twice: refused.
  std::optional<Json> released = CliJson({"alloc", "release", id});
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ((*released)["state"], "released");
  CommandResult again = Cli({"alloc", "release", id});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already released"), std::string::npos) << again.err;
  std::optional<Json> cleanup = CliJson({"alloc", "cleanup"});
  ASSERT_TRUE(cleanup.has_value());
  ASSERT_EQ((*cleanup)["stopped_services"].size(), 1u) << cleanup->dump();
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(20)));
  EXPECT_TRUE(WaitUntil([&] { return !CanConnect(endpoint); }, seconds(10)));
  std::optional<Json> history = Allocation(id);
  ASSERT_TRUE(history.has_value());
  EXPECT_GE((*history)["events"].size(), 4u);  // requested, active, releasing, released
}

TEST_F(AllocationsTest, AShortTtlExpiresAndCleanupReportsIt) {
  ASSERT_TRUE(StartMaster(MasterFlags()));
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  std::optional<Json> a = CliJson({"alloc", "request", "job-ttl", "-cpu_cores", "0.1", "-mem",
                                   "0.05", "-storage", "0.01", "-ttl", "1s"});
  ASSERT_TRUE(a.has_value());
  const std::string id = (*a)["allocation_id"];
  std::this_thread::sleep_for(milliseconds(1500));
  std::optional<Json> cleanup = CliJson({"alloc", "cleanup"});
  ASSERT_TRUE(cleanup.has_value());
  ASSERT_EQ((*cleanup)["expired_allocation_ids"].size(), 1u) << cleanup->dump();
  EXPECT_EQ((*cleanup)["expired_allocation_ids"][0], id);
  EXPECT_EQ((*Allocation(id))["state"], "expired");
  EXPECT_TRUE(WaitWorkerIdle("w1", seconds(10)));

  // A request that could never fit fails at once and leaves nothing behind.
  CommandResult huge = Cli({"alloc", "request", "job-huge", "-cpu_cores", "4096"});
  EXPECT_NE(huge.exit_code, 0);
  EXPECT_NE(huge.err.find("could never fit"), std::string::npos) << huge.err;
  std::optional<Json> listed = CliJson({"alloc", "list", "-job", "job-huge"});
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(!listed->contains("allocations") || (*listed)["allocations"].empty());
}

}  // namespace
}  // namespace cloudai::integration
