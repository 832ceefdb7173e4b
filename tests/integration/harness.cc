#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/strings.h"

extern char** environ;

namespace cloudai::integration {

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::string Sanitize(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  if (out.size() > 80) out.resize(80);
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string ReadFrom(const std::string& path, size_t from) {
  // Reads to the end rather than trusting the size: /proc files report none.
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  if (from > 0) {
    in.seekg(static_cast<std::streamoff>(from));
    if (!in) return "";
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ExitStatus Decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

}  // namespace

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = Loopback(0);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

bool PortAcceptsConnections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = Loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

bool WaitUntil(const std::function<bool()>& predicate, milliseconds timeout,
               milliseconds interval) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(interval, deadline - now));
    if (Clock::now() >= deadline) return predicate();
  }
}

// ---------------------------------------------------------------------------------------
// TestDir

TestDir::TestDir(std::string_view label) {
  std::string name(label);
  if (name.empty()) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name = info != nullptr ? StrCat(info->test_suite_name(), ".", info->name()) : "harness";
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  std::string templ = StrCat(base, "/cloudai-it-", Sanitize(name), "-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << ": " << std::strerror(errno);
  }
  path_ = templ;
}

TestDir::~TestDir() {
  if (keep_) {
    std::fprintf(stderr, "[ harness  ] kept the test's files in %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TestDir::Sub(std::string_view name, bool create) const {
  std::string p = StrCat(path_, "/", name);
  if (create) {
    std::error_code ec;
    std::filesystem::create_directories(p, ec);
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// Process

std::string ExitStatus::ToString() const {
  if (exited) return StrCat("exit code ", code);
  if (signal != 0) return StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return "unknown status";
}

std::unique_ptr<Process> Process::Start(const ProcessOptions& options, std::string* error) {
  if (options.args.empty() || options.log_path.empty()) {
    *error = "no program or no log path";
    return nullptr;
  }
  // Everything the child needs is prepared before fork: between fork and exec the child
  // of a multi-threaded process may only make async-signal-safe calls.
  std::vector<char*> argv;
  std::string description;
  for (const std::string& a : options.args) {
    argv.push_back(const_cast<char*>(a.c_str()));
    if (!description.empty()) description.push_back(' ');
    description += a;
  }
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    const std::string key(entry.substr(0, entry.find('=')));
    if (options.env.count(key) > 0) continue;
    bool unset = false;
    for (const std::string& u : options.unset_env) unset = unset || u == key;
    if (!unset) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(StrCat(k, "=", v));
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int out_fd = ::open(options.log_path.c_str(),
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    *error = StrCat("open ", options.log_path, ": ", std::strerror(errno));
    return nullptr;
  }
  int err_fd = out_fd;
  if (!options.stderr_path.empty()) {
    err_fd = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                    0644);
    if (err_fd < 0) {
      *error = StrCat("open ", options.stderr_path, ": ", std::strerror(errno));
      ::close(out_fd);
      return nullptr;
    }
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    *error = StrCat("pipe: ", std::strerror(errno));
    ::close(out_fd);
    if (err_fd != out_fd) ::close(err_fd);
    if (null_fd >= 0) ::close(null_fd);
    return nullptr;
  }
  const pid_t parent = ::getpid();
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    int err = 0;
    if (cwd != nullptr && ::chdir(cwd) != 0) {
      err = errno;
    } else {
      ::execve(argv[0], argv.data(), envp.data());
      err = errno;
    }
    ssize_t ignored = ::write(report[1], &err, sizeof(err));
    (void)ignored;
    ::_exit(127);
  }
  ::close(report[1]);
  ::close(out_fd);
  if (err_fd != out_fd) ::close(err_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    *error = StrCat("fork: ", std::strerror(errno));
    ::close(report[0]);
    return nullptr;
  }
  // Avoids a race with signals sent before the child ran setpgid.
  ::setpgid(pid, pid);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int status;
    ::waitpid(pid, &status, 0);
    *error = StrCat("cannot run ", description, ": ", std::strerror(child_errno));
    return nullptr;
  }
  std::unique_ptr<Process> p(new Process());
  p->pid_ = pid;
  p->log_path_ = options.log_path;
  p->description_ = std::move(description);
  return p;
}

Process::~Process() { Kill(); }

std::string Process::ReadLog() const { return ReadFile(log_path_); }

std::string Process::LogTail(int lines) const {
  const std::string log = ReadLog();
  size_t pos = log.size();
  if (pos > 0 && log[pos - 1] == '\n') --pos;
  for (int i = 0; i < lines && pos > 0; ++i) {
    const size_t nl = log.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  return log.substr(pos == 0 ? 0 : pos + 1);
}

size_t Process::LogSize() const {
  struct stat st;
  if (::stat(log_path_.c_str(), &st) != 0) return 0;
  return static_cast<size_t>(st.st_size);
}

bool Process::WaitForMatch(const std::function<bool(std::string_view line)>& match,
                           milliseconds timeout, size_t from) {
  auto scan = [&] {
    const std::string text = ReadFrom(log_path_, from);
    for (std::string_view line : SplitLines(text)) {
      if (match(line)) return true;
    }
    return false;
  };
  bool found = false;
  WaitUntil(
      [&] {
        found = scan();
        if (found) return true;
        // Gone: one last look at what it wrote, then give up.
        if (!Running()) {
          found = scan();
          return true;
        }
        return false;
      },
      timeout, milliseconds(20));
  return found;
}

std::optional<std::vector<std::string>> Process::WaitForRegex(const std::regex& re,
                                                              milliseconds timeout,
                                                              size_t from) {
  std::optional<std::vector<std::string>> found;
  WaitForMatch(
      [&](std::string_view line) {
        std::match_results<std::string_view::const_iterator> m;
        if (!std::regex_search(line.begin(), line.end(), m, re)) return false;
        std::vector<std::string> groups;
        for (const auto& g : m) groups.push_back(g.str());
        found = std::move(groups);
        return true;
      },
      timeout, from);
  return found;
}

std::optional<std::string> Process::WaitForLine(std::string_view needle, milliseconds timeout,
                                                size_t from) {
  std::optional<std::string> found;
  WaitForMatch(
      [&](std::string_view line) {
        if (line.find(needle) == std::string_view::npos) return false;
        found = std::string(line);
        return true;
      },
      timeout, from);
  return found;
}

bool Process::Signal(int sig) {
  if (!Running()) return false;
  return ::kill(pid_, sig) == 0;
}

bool Process::SignalGroup(int sig) {
  if (!Running()) return false;
  return ::kill(-pid_, sig) == 0;
}

bool Process::Poll() {
  if (status_.has_value()) return true;
  if (pid_ <= 0) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = Decode(status);
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    status_ = ExitStatus{};
    return true;
  }
  return false;
}

bool Process::Running() { return !Poll(); }

std::optional<ExitStatus> Process::Wait(milliseconds timeout) {
  WaitUntil([&] { return Poll(); }, timeout, milliseconds(10));
  return status_;
}

void Process::Kill() {
  if (pid_ <= 0) return;
  // The group may outlive its leader; kill what is left of it either way.
  ::kill(-pid_, SIGKILL);
  if (!status_.has_value()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    status_ = r == pid_ ? Decode(status) : ExitStatus{};
  }
}

// ---------------------------------------------------------------------------------------
// One-shot commands

std::string CommandResult::ToString() const {
  std::string s = StrCat("exit code ", exit_code, timed_out ? " (timed out)" : "", "\n");
  StrAppend(&s, "--- stdout ---\n", out, out.empty() || out.back() == '\n' ? "" : "\n");
  StrAppend(&s, "--- stderr ---\n", err, err.empty() || err.back() == '\n' ? "" : "\n");
  return s;
}

CommandResult RunCommand(const std::vector<std::string>& args, const std::string& scratch_dir,
                         milliseconds timeout, const std::map<std::string, std::string>& env) {
  ProcessOptions options;
  options.args = args;
  options.env = env;
  return RunCommand(std::move(options), scratch_dir, timeout);
}

CommandResult RunCommand(ProcessOptions options, const std::string& scratch_dir,
                         milliseconds timeout) {
  static std::atomic<int> counter{0};
  const std::string base = StrCat(scratch_dir, "/cmd-", ::getpid(), "-", counter++);
  options.log_path = StrCat(base, ".out");
  options.stderr_path = StrCat(base, ".err");
  CommandResult result;
  std::string error;
  std::unique_ptr<Process> p = Process::Start(options, &error);
  if (p == nullptr) {
    result.err = error;
    return result;
  }
  std::optional<ExitStatus> status = p->Wait(timeout);
  if (!status.has_value()) {
    result.timed_out = true;
    p->Kill();
  } else if (status->exited) {
    result.exit_code = status->code;
  }
  result.out = ReadFile(options.log_path);
  result.err = ReadFile(options.stderr_path);
  ::unlink(options.log_path.c_str());
  ::unlink(options.stderr_path.c_str());
  return result;
}

// ---------------------------------------------------------------------------------------
// Files

std::string ReadFile(const std::string& path) { return ReadFrom(path, 0); }

bool WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return static_cast<bool>(out);
}

int CountLines(const std::string& path) {
  const std::string text = ReadFile(path);
  return static_cast<int>(SplitLines(text).size());
}

int KillProcessesUnder(const std::string& dir) {
  if (dir.empty()) return 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  const pid_t self = ::getpid();
  int killed = 0;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 1 || pid == self) continue;
    char target[4096];
    const std::string link = StrCat("/proc/", entry->d_name, "/cwd");
    const ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    std::string_view cwd(target, static_cast<size_t>(n));
    constexpr std::string_view kDeleted = " (deleted)";
    if (cwd.ends_with(kDeleted)) cwd.remove_suffix(kDeleted.size());
    if (cwd == dir || (cwd.starts_with(dir) && cwd.size() > dir.size() &&
                       cwd[dir.size()] == '/')) {
      if (::kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++killed;
    }
  }
  ::closedir(proc);
  return killed;
}

// ---------------------------------------------------------------------------------------
// JSON

std::optional<Json> ParseJson(std::string_view text) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

namespace {

const Json* Field(const Json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(std::string(key));
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

int64_t JInt(const Json& j, std::string_view key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return 0;
  if (f->is_number_integer() || f->is_number_unsigned()) return f->get<int64_t>();
  if (f->is_number_float()) return static_cast<int64_t>(f->get<double>());
  if (f->is_string()) {
    const std::string s = f->get<std::string>();
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    return end != s.c_str() ? v : 0;
  }
  return 0;
}

std::string JStr(const Json& j, std::string_view key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return "";
  if (f->is_string()) return f->get<std::string>();
  return f->dump();
}

bool JBool(const Json& j, std::string_view key) {
  const Json* f = Field(j, key);
  return f != nullptr && f->is_boolean() && f->get<bool>();
}

double JDouble(const Json& j, std::string_view key) {
  const Json* f = Field(j, key);
  if (f == nullptr) return 0;
  if (f->is_number()) return f->get<double>();
  if (f->is_string()) return std::strtod(f->get<std::string>().c_str(), nullptr);
  return 0;
}

const Json& JObj(const Json& j, std::string_view key) {
  static const Json* const kEmpty = new Json(Json::object());
  const Json* f = Field(j, key);
  return f != nullptr && f->is_object() ? *f : *kEmpty;
}

const Json& JArr(const Json& j, std::string_view key) {
  static const Json* const kEmpty = new Json(Json::array());
  const Json* f = Field(j, key);
  return f != nullptr && f->is_array() ? *f : *kEmpty;
}

}  // namespace cloudai::integration
