// cloudai-master: the CloudAI master process (see docs/cluster.md).
#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "cli/shell.h"
#include "client/cluster_client.h"
#include "cloudai/common/clock.h"
#include "common/strings.h"
#include "common/system_info.h"
#include "master/admin_token.h"
#include "master/cluster.h"
#include "master/cluster_api.h"
#include "master/cluster_service.h"
#include "master/config.h"
#include "master/grpc_worker_gateway.h"
#include "master/http/http_frontend.h"
#include "master/heartbeat_loop.h"
#include "master/master_service.h"
#include "store/store.h"

extern char** environ;

namespace cloudai::master {
namespace {

constexpr int kExitStoreFailure = 70;

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

// Where this process's own clients reach its gRPC port.
std::string LoopbackAddress(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0") return StrCat("127.0.0.1", listen.substr(colon));
  if (host == "::" || host == "[::]") return StrCat("[::1]", listen.substr(colon));
  return listen;
}

int Fail(const std::string& what) {
  std::cerr << "cloudai-master: " << what << std::endl;
  return 1;
}

int Run(int argc, char** argv) {
  // gRPC's locks are abseil's, whose deadlock detector (a debugging aid, on in this build of
  // abseil) kept a lock graph on every lock and cost the master a tenth of its heartbeat
  // work.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << MasterUsage();
      return 0;
    }
  }
  absl::StatusOr<MasterConfig> config = LoadMasterConfig(Environment(), args);
  if (!config.ok()) {
    std::cerr << "cloudai-master: " << config.status().message() << "\n"
              << "run cloudai-master --help for the accepted flags" << std::endl;
    return 2;
  }

  // Signals are taken by sigwait() below, on the main thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::string> token = LoadOrCreateAdminToken(config->state_dir);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  absl::StatusOr<std::unique_ptr<store::Store>> store = store::OpenStore(config->store_url);
  if (!store.ok()) {
    return Fail(StrCat("cannot open the store ", config->store_url, ": ",
                       std::string(store.status().message())));
  }

  GrpcWorkerGatewayOptions gateway_options;
  gateway_options.master_id = config->master_id;
  gateway_options.master_address = config->advertise_address;
  GrpcWorkerGateway gateway(gateway_options);

  std::atomic<bool> store_failed{false};
  ClusterOptions options;
  options.master_id = config->master_id;
  options.advertise_address = config->advertise_address;
  options.scheduler = config->scheduler;
  options.inactivity_timeout = config->inactivity_timeout;
  options.lost_grace = config->lost_grace;
  options.max_log_bytes = config->max_log_bytes;
  options.allocations = config->allocations;
  options.on_store_failure = [&store_failed](const absl::Status&) {
    store_failed = true;
    ::kill(::getpid(), SIGTERM);
  };
  std::shared_ptr<Clock> clock = Clock::Real();
  absl::StatusOr<std::unique_ptr<Cluster>> cluster =
      Cluster::Create(**store, gateway, *clock, options);
  if (!cluster.ok()) {
    return Fail(StrCat("cannot load the cluster state: ", std::string(cluster.status().message())));
  }

  ClusterApi api(**cluster, **store, gateway, *token);
  http::HttpFrontendOptions http_options;
  http_options.listen = config->http_listen;
  http_options.allowed_origins = config->http_allowed_origins;
  http::HttpFrontend http_frontend(api, http_options);
  (*cluster)->SetObserver(&http_frontend.feed());

  MasterServiceImpl master_service(**cluster);
  ClusterServiceImpl cluster_service(api);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(config->grpc_listen, grpc::InsecureServerCredentials(), &bound_port);
  builder.SetMaxReceiveMessageSize(80 << 20);
  builder.SetMaxSendMessageSize(80 << 20);
  builder.RegisterService(&master_service);
  builder.RegisterService(&cluster_service);
  HeartbeatLoop heartbeats(master_service, builder.AddCompletionQueue(), std::chrono::milliseconds(getenv("HBB") ? atoi(getenv("HBB")) : 5));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    return Fail(StrCat("cannot listen on ", config->grpc_listen,
                       " (in use, or not an address of this machine); set GRPC_PORT or --grpc-port"));
  }

  heartbeats.Start();

  if (absl::Status http_started = http_frontend.Start(); !http_started.ok()) {
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    heartbeats.Stop();
    return Fail(StrCat(std::string(http_started.message()),
                       " (in use, or not an address of this machine); set HTTP_PORT or "
                       "--http-port"));
  }

  std::atomic<bool> stopping{false};
  std::thread scheduler([&] {
    while (!stopping) {
      bool wanted = (*cluster)->WaitForScheduling(clock->Now() + config->queue_interval);
      if (stopping) break;
      (*cluster)->SchedulePass(/*force=*/!wanted);
    }
  });
  std::thread liveness([&] {
    const auto period = std::clamp(config->inactivity_timeout / 4, std::chrono::milliseconds(50),
                                   std::chrono::milliseconds(1000));
    auto last_sweep = clock->Now();
    while (!stopping) {
      std::this_thread::sleep_for(period);
      (*cluster)->CheckLiveness();
      // Allocations past their TTL, services idle past their timeout.
      if (clock->Now() - last_sweep >= config->allocations.sweep_interval) {
        last_sweep = clock->Now();
        (*cluster)->SweepAllocations();
      }
    }
  });

  SystemInfo info = CollectSystemInfo();
  std::cout << "cloudai-master: " << config->master_id << " on " << info.hostname << " (" << info.os
            << "), store " << config->store_url << ", scheduler " << config->scheduler << "\n"
            << "cloudai-master: serving gRPC on " << config->grpc_listen << " (advertised as "
            << config->advertise_address << ")\n"
            << "cloudai-master: serving HTTP on " << config->http_listen << "\n"
            << "cloudai-master: admin token in " << AdminTokenPath(config->state_dir) << std::endl;
  (*cluster)->AnnounceToAll();

  // The master> prompt on the master's own terminal, as seed 001's master has it; exit or
  // quit there stops the master. Its log lines would land in the middle of the prompt, so
  // they go to a file in the state directory instead.
  const bool interactive =
      config->shell == "on" || (config->shell == "auto" && ::isatty(0) && ::isatty(1));
  termios saved_terminal{};
  const bool terminal_saved = interactive && ::tcgetattr(0, &saved_terminal) == 0;
  std::atomic<bool> shell_ended{false};
  std::thread shell;
  if (interactive) {
    const std::string log_path = StrCat(config->state_dir, "/master.log");
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 2);
      ::close(fd);
      std::cout << "cloudai-master: log in " << log_path << std::endl;
    }
    shell = std::thread([&] {
      client::ClientOptions client_options;
      client_options.master_address = LoopbackAddress(config->grpc_listen);
      client_options.token = *token;
      client_options.token_source = AdminTokenPath(config->state_dir);
      client::ClusterClient client(client_options);
      cli::CliContext context;
      context.stdout_is_tty = ::isatty(1);
      context.in = &std::cin;
      context.stdin_fd = 0;
      cli::RunShell(client, context, std::cout, std::cerr);
      shell_ended = true;
      ::kill(::getpid(), SIGTERM);
    });
  }

  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "cloudai-master: " << (store_failed ? "store failure" : strsignal(sig))
            << ", shutting down" << std::endl;
  stopping = true;
  http_frontend.Stop();
  (*cluster)->Shutdown();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  heartbeats.Stop();
  scheduler.join();
  liveness.join();
  gateway.Stop();
  (*store)->Close();
  (*cluster)->SetObserver(nullptr);
  std::cout << "cloudai-master: stopped" << std::endl;
  if (terminal_saved) ::tcsetattr(0, TCSANOW, &saved_terminal);
  if (shell.joinable()) {
    if (shell_ended) {
      shell.join();
    } else {
      // Stopped by a signal while the prompt waits for a line: nothing more to do there.
      std::cout.flush();
      ::_exit(store_failed ? kExitStoreFailure : 0);
    }
  }
  return store_failed ? kExitStoreFailure : 0;
}

}  // namespace
}  // namespace cloudai::master

int main(int argc, char** argv) { return cloudai::master::Run(argc, argv); }
