// Registration: the admin token, pre-registered workers joining with their real totals,
// workers the admin never registered being refused, unregistering, and a clean stop.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <regex>
#include <thread>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

using RegistrationTest = ClusterTest;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST_F(RegistrationTest, MasterPrintsItsAddressesAndCreatesThePrivateAdminToken) {
  ASSERT_TRUE(StartMaster());
  std::optional<std::string> serving = master()->WaitForLine("serving gRPC on", seconds(1));
  ASSERT_TRUE(serving.has_value());
  EXPECT_NE(serving->find(StrCat("(advertised as ", master_address(), ")")), std::string::npos)
      << *serving;
  const std::string token_path = StrCat(state_dir(), "/admin.token");
  std::optional<std::string> token_line = master()->WaitForLine("admin token in", seconds(5));
  ASSERT_TRUE(token_line.has_value()) << master()->ReadLog();
  EXPECT_NE(token_line->find(token_path), std::string::npos) << *token_line;

  const std::string contents = ReadFile(token_path);
  EXPECT_TRUE(std::regex_match(contents, std::regex("[0-9a-f]{64}\n")))
      << "admin.token must be 64 hex digits and a newline, got \"" << contents << "\"";
  struct stat st;
  ASSERT_EQ(::stat(token_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The token survives a restart unchanged.
  ASSERT_TRUE(master()->Signal(SIGTERM));
  std::optional<ExitStatus> exit = master()->Wait(seconds(15));
  ASSERT_TRUE(exit.has_value()) << "master did not stop within 15 s of SIGTERM";
  ASSERT_TRUE(StartMaster());
  EXPECT_EQ(ReadFile(token_path), contents);
}

TEST_F(RegistrationTest, AuthorizedWorkerBecomesActiveWithItsRealTotals) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartWorker("w1");
  ASSERT_NE(w, nullptr);
  std::optional<std::string> hint =
      w->process->WaitForLine("register it on the master with:", seconds(5));
  ASSERT_TRUE(hint.has_value()) << w->process->ReadLog();
  EXPECT_NE(hint->find(StrCat("cloudai register w1 ", w->address)), std::string::npos) << *hint;

  // Not known before the admin registers it.
  std::optional<Json> before = Workers();
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(JArr(*before, "workers").empty()) << before->dump();

  ASSERT_TRUE(RegisterWorker("w1"));
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  const Json& info = JObj(*status, "info");
  EXPECT_EQ(JStr(info, "worker_ip"), w->address);
  EXPECT_EQ(JStr(info, "driver"), "exec");
  EXPECT_TRUE(JBool(*status, "is_active"));
  EXPECT_GT(JInt(*status, "last_heartbeat_ms"), 0);

  // Real totals: what this machine has, not made-up figures.
  const WorkerResources r = ResourcesOf(*status);
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  const int64_t memory_mib =
      static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE) / (1 << 20);
  EXPECT_GT(r.total.cpu, 0);
  EXPECT_LE(r.total.cpu, cpus * 1000) << "more CPU than the machine's " << cpus << " CPUs";
  EXPECT_GT(r.total.memory, 0);
  EXPECT_LE(r.total.memory, memory_mib) << "more memory than the machine's " << memory_mib
                                         << " MiB";
  EXPECT_GT(r.total.storage, 0);
  EXPECT_EQ(r.allocated.cpu, 0);
  EXPECT_EQ(r.allocated.memory, 0);
  EXPECT_EQ(r.allocated.storage, 0);
  EXPECT_EQ(r.allocated.gpu, 0);
  EXPECT_EQ(r.available.cpu, r.total.cpu);
  EXPECT_EQ(r.available.memory, r.total.memory);
  EXPECT_EQ(r.available.storage, r.total.storage);
  EXPECT_EQ(r.available.gpu, r.total.gpu);

  // The table view names it too, and `stats` answers for it.
  CommandResult table = Cli({"workers"});
  EXPECT_EQ(table.exit_code, 0) << table.ToString();
  EXPECT_NE(table.out.find("w1"), std::string::npos) << table.ToString();
  CommandResult list = Cli({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.ToString();
  EXPECT_NE(list.out.find("w1"), std::string::npos) << list.ToString();
  CommandResult stats = Cli({"stats", "w1"});
  EXPECT_EQ(stats.exit_code, 0) << stats.ToString();
  EXPECT_NE(stats.out.find("w1"), std::string::npos) << stats.ToString();
}

TEST_F(RegistrationTest, WorkerStartedWithMasterJoinsOnceRegistered) {
  ASSERT_TRUE(StartMaster());
  // Pre-register the address the worker is about to take.
  const int port = FreePort();
  const std::string address = StrCat("127.0.0.1:", port);
  CommandResult reg = Cli({"register", "w1", address});
  ASSERT_EQ(reg.exit_code, 0) << reg.ToString();
  WorkerHandle* w = StartWorker("w1", "exec", {"--port", StrCat(port), "--master",
                                                master_address()});
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(w->address, address) << "the worker did not take the first free port it was given";
  EXPECT_TRUE(WaitWorkerActive("w1", true, seconds(15)));
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  EXPECT_GT(ResourcesOf(*status).total.cpu, 0) << status->dump();
}

TEST_F(RegistrationTest, WorkerStartedWithMasterButNeverRegisteredIsKeptOut) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartWorker("rogue", "exec", {"--master", master_address()});
  ASSERT_NE(w, nullptr);
  std::this_thread::sleep_for(milliseconds(2000));
  std::optional<Json> workers = Workers();
  ASSERT_TRUE(workers.has_value());
  EXPECT_TRUE(JArr(*workers, "workers").empty()) << workers->dump();
  EXPECT_TRUE(master()->Running());
  // Once the admin registers it, it joins.
  ASSERT_TRUE(RegisterWorker("rogue"));
}

TEST_F(RegistrationTest, RegisteringTheSameIdTwiceIsRefused) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  CommandResult again = Cli({"register", "w1", "127.0.0.1:1"});
  EXPECT_EQ(again.exit_code, 1) << again.ToString();
  EXPECT_NE(again.err.find("error:"), std::string::npos) << again.ToString();
  std::optional<Json> status = WorkerStatus("w1");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(JStr(JObj(*status, "info"), "worker_ip"), worker("w1")->address);
}

TEST_F(RegistrationTest, WorkerTheAdminNeverRegisteredIsRefused) {
  ASSERT_TRUE(StartMaster());
  std::unique_ptr<cloudai::v1::MasterService::Stub> stub = MasterStub();
  cloudai::v1::WorkerInfo info;
  info.set_worker_id("intruder");
  info.set_worker_ip("127.0.0.1:9");
  info.set_total_cpu(4000);
  info.set_total_memory(8192);
  info.set_total_storage(10240);
  info.set_driver("exec");
  info.set_hostname("intruder-host");
  cloudai::v1::RegisterAck ack;
  std::unique_ptr<grpc::ClientContext> context = Context(/*with_token=*/false);
  grpc::Status rpc = stub->RegisterWorker(context.get(), info, &ack);
  ASSERT_TRUE(rpc.ok()) << "MasterService.RegisterWorker answers with an ack, got status "
                        << rpc.error_code() << ": " << rpc.error_message();
  EXPECT_FALSE(ack.success());
  const std::string message = Lower(ack.message());
  EXPECT_FALSE(message.empty());
  EXPECT_TRUE(message.find("intruder") != std::string::npos ||
              message.find("regist") != std::string::npos)
      << "the refusal should say the worker is not registered; got: " << ack.message();

  // Its heartbeats are not accepted either.
  cloudai::v1::Heartbeat beat;
  beat.set_worker_id("intruder");
  cloudai::v1::HeartbeatAck beat_ack;
  std::unique_ptr<grpc::ClientContext> beat_context = Context(/*with_token=*/false);
  grpc::Status beat_rpc = stub->SendHeartbeat(beat_context.get(), beat, &beat_ack);
  EXPECT_TRUE(!beat_rpc.ok() || !beat_ack.success())
      << "a heartbeat from an unknown worker was accepted";

  // Nothing changed, and the master still serves.
  std::optional<Json> workers = Workers();
  ASSERT_TRUE(workers.has_value());
  EXPECT_TRUE(JArr(*workers, "workers").empty()) << workers->dump();
  EXPECT_TRUE(master()->Running());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
}

TEST_F(RegistrationTest, UnregisterRemovesAnIdleWorkerButNotOneWithTasks) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  ASSERT_NE(StartRegisteredWorker("w2"), nullptr);

  // Refused while a task runs there.
  CommandResult task = Cli({"task", "w2", kAnyImage, "--id", "busy", "-cpu_cores", "0.1",
                            "-mem", "0.05", "-storage", "0.01", "--", "sleep 20"});
  ASSERT_EQ(task.exit_code, 0) << task.ToString();
  ASSERT_TRUE(WaitForTaskState("busy", {"running"}, seconds(10)).has_value());
  CommandResult refused = Cli({"unregister", "w2"});
  EXPECT_EQ(refused.exit_code, 1) << refused.ToString();
  EXPECT_NE(refused.err.find("error:"), std::string::npos) << refused.ToString();
  EXPECT_TRUE(WorkerStatus("w2").has_value());

  // Unknown ids are refused.
  CommandResult unknown = Cli({"unregister", "no-such-worker"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.ToString();

  // An idle worker goes, and stays gone although its process still runs.
  CommandResult removed = Cli({"unregister", "w1"});
  ASSERT_EQ(removed.exit_code, 0) << removed.ToString();
  EXPECT_FALSE(WorkerStatus("w1").has_value());
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_FALSE(WorkerStatus("w1").has_value()) << "w1 came back after it was unregistered";
  EXPECT_TRUE(worker("w1")->process->Running());

  // The remaining worker is untouched; cancel its task.
  std::optional<Json> w2 = WorkerStatus("w2");
  ASSERT_TRUE(w2.has_value());
  EXPECT_TRUE(JBool(*w2, "is_active"));
  CommandResult cancel = Cli({"cancel", "busy"});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.ToString();
  EXPECT_TRUE(WaitWorkerIdle("w2", seconds(10)));
  // Now it may go.
  CommandResult removed2 = Cli({"unregister", "w2"});
  EXPECT_EQ(removed2.exit_code, 0) << removed2.ToString();
}

TEST_F(RegistrationTest, ReRegisteredWorkerJoinsAgain) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  ASSERT_EQ(Cli({"unregister", "w1"}).exit_code, 0);
  ASSERT_TRUE(RegisterWorker("w1"));
}

TEST_F(RegistrationTest, SigtermStopsTheMasterAndTheWorkerWithExitCodeZero) {
  ASSERT_TRUE(StartMaster());
  WorkerHandle* w = StartRegisteredWorker("w1");
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->process->Signal(SIGTERM));
  std::optional<ExitStatus> worker_exit = w->process->Wait(seconds(15));
  ASSERT_TRUE(worker_exit.has_value()) << "worker did not stop within 15 s of SIGTERM";
  EXPECT_TRUE(worker_exit->exited) << worker_exit->ToString();
  EXPECT_EQ(worker_exit->code, 0) << worker_exit->ToString();

  ASSERT_TRUE(master()->Signal(SIGTERM));
  std::optional<ExitStatus> master_exit = master()->Wait(seconds(15));
  ASSERT_TRUE(master_exit.has_value()) << "master did not stop within 15 s of SIGTERM";
  EXPECT_TRUE(master_exit->exited) << master_exit->ToString();
  EXPECT_EQ(master_exit->code, 0) << master_exit->ToString();

  // The CLI says the master cannot be reached: exit code 3.
  CommandResult r = Cli({"workers"});
  EXPECT_EQ(r.exit_code, 3) << r.ToString();
}

TEST_F(RegistrationTest, CliWithoutTheRightTokenIsRefused) {
  ASSERT_TRUE(StartMaster());
  std::vector<std::string> args = {"--token", std::string(64, '0'), "workers"};
  // --token wins over the fixture's --token-file.
  CommandResult r = Cli(args);
  EXPECT_EQ(r.exit_code, 1) << r.ToString();
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.ToString();
}

}  // namespace
}  // namespace cloudai::integration
