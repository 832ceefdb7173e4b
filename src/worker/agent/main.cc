// cloudai-worker: runs CloudAI tasks on this machine for a master (docs/cluster.md).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/strings.h"
#include "worker/agent/agent.h"
#include "worker/agent/agent_log.h"
#include "worker/agent/agent_options.h"
#include "worker/agent/driver_factory.h"

namespace {

int signal_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  const int saved = errno;
  (void)!::write(signal_pipe[1], &b, 1);
  errno = saved;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cloudai;
  using namespace cloudai::worker;
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<ParsedFlags> flags = ParseAgentFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "cloudai-worker: %s\n(cloudai-worker --help lists the flags)\n",
                 std::string(flags.status().message()).c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(AgentUsage().c_str(), stdout);
    return 0;
  }
  AgentOptions options = flags->options;
  std::error_code ec;
  const std::filesystem::path work_dir = std::filesystem::absolute(options.work_dir, ec);
  if (!ec) options.work_dir = work_dir.lexically_normal().string();

  // Signals are turned into bytes on a pipe (no blocked signal masks: task processes
  // inherit those).
  if (::pipe2(signal_pipe, O_CLOEXEC) != 0) {
    std::perror("cloudai-worker: pipe");
    return 1;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<DriverChoice> choice = MakeDriver(options, options.work_dir);
  if (!choice.ok()) {
    std::fprintf(stderr, "cloudai-worker: %s\n", std::string(choice.status().message()).c_str());
    return choice.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  LogLine(choice->reason);
  absl::StatusOr<std::unique_ptr<Agent>> agent = Agent::Create(options, std::move(choice->driver));
  if (!agent.ok()) {
    std::fprintf(stderr, "cloudai-worker: %s\n", std::string(agent.status().message()).c_str());
    return 1;
  }
  if (absl::Status s = (*agent)->Start(); !s.ok()) {
    std::fprintf(stderr, "cloudai-worker: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const std::string& id = options.worker_id;
  const std::string address = (*agent)->address();
  std::printf("cloudai-worker: worker %s serving on %s (driver %s)\n", id.c_str(), address.c_str(),
              std::string((*agent)->driver_name()).c_str());
  std::printf("cloudai-worker: register it on the master with: cloudai register %s %s\n",
              id.c_str(), address.c_str());
  std::fflush(stdout);
  LogLine(StrCat("work directory ", (*agent)->work_dir(), ", listening on ",
                 options.listen_host, ":", (*agent)->port()));

  unsigned char sig = 0;
  while (true) {
    const ssize_t n = ::read(signal_pipe[0], &sig, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
  }
  LogLine(StrCat("received ", sig == SIGINT ? "SIGINT" : "SIGTERM", "; shutting down"));
  (*agent)->Shutdown();
  agent->reset();
  LogLine("stopped");
  return 0;
}
