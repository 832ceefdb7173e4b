// cloudai-bench-ws: telemetry fan-out, heartbeat to WebSocket client.
//
// Starts a real master, registers and joins N simulated workers (default 1,000), opens C
// WebSocket clients (default 50) on /ws/telemetry, waits for their snapshots, then has each
// worker heartbeat every 5 s (spread evenly over the period) for --seconds. Each heartbeat
// carries its per-worker sequence number in its CPU usage (seq % 100 + 0.25, exact in binary
// and in JSON), so that a client that receives {"type": "heartbeat", "worker": ...} can look
// up when the load generator sent it (the steady clock, CLOCK_MONOTONIC, which every process
// on the machine shares).
//
// The clients run in a process of their own (forked at start, before any thread), as a
// dashboard would, so that reading and parsing 10,000 messages a second does not compete
// with the load generator's threads for the same scheduler slots; the send times are in
// memory both processes share. --in-process puts them back in this process (two more
// threads here), for comparison. Prints, over the window after the first period:
//   ws_latency_ms_p50=, ws_latency_ms_p99=, ws_latency_ms_max=
//                         <heartbeat sent -> message read by a client, every delivery>
//   master_to_client_ms_p50=, master_to_client_ms_p99=
//                         <the part of it after the master took the heartbeat in: the
//                          message's received_at_ms to the client's wall clock, whole ms>
//   rpc_latency_ms_p50=, rpc_latency_ms_p99=
//                         <heartbeat sent -> its ack: the baseline measured in the same run>
//   ws_over_rpc_p50_ratio=, ws_over_rpc_p99_ratio=
//   master_cpu_percent=   <the master's CPU time over the window, in % of one core>
//   clients_cpu_percent=  <the client process's, the same way (0 with --in-process)>
//   messages_received=, messages_expected=
//                         <deliveries of the window's heartbeats; expected: heartbeats
//                          acknowledged x clients>
//
// --bursts sends the heartbeats in five bursts a period (a fifth of the workers at once),
// the shape this benchmark's first version produced by mistake: a stress figure.
//
//   cloudai-bench-ws [--workers 1000] [--clients 50] [--seconds 30] [--threads 4]
//                    [--client-threads 2] [--in-process] [--bursts] [--keep]
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "bench_cluster.h"
#include "simulated_workers.h"

namespace cloudai::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

struct Flags {
  int workers = 1000;
  int clients = 50;
  int seconds = 30;
  int threads = 4;
  int client_threads = 2;
  bool in_process = false;
  bool bursts = false;
  bool keep = false;
};

constexpr int kSlots = 100;  // sequence numbers told apart per worker
// In nanoseconds, so that kPeriod * i / workers is each worker's own offset (in whole
// seconds it would bunch the workers into five bursts of 200 a period).
constexpr std::chrono::nanoseconds kPeriod = std::chrono::seconds(5);

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

// The raw JSON value after `"key": ` in `text` from `from` on (a string's quotes stripped);
// empty when absent. `quoted_key` is the key with its quotes.
std::string_view JsonValue(std::string_view text, std::string_view quoted_key, size_t from = 0) {
  size_t at = text.find(quoted_key, from);
  if (at == std::string_view::npos) return {};
  at += quoted_key.size();
  while (at < text.size() && (text[at] == ' ' || text[at] == ':')) ++at;
  if (at >= text.size()) return {};
  if (text[at] == '"') {
    const size_t end = text.find('"', at + 1);
    return end == std::string_view::npos ? std::string_view() : text.substr(at + 1, end - at - 1);
  }
  size_t end = at;
  while (end < text.size() && text[end] != ',' && text[end] != '}' && text[end] != ' ') ++end;
  return text.substr(at, end - at);
}

// When each (worker, sequence slot) heartbeat was sent; written by the load generator,
// read by the clients. It lives in memory mapped shared before the client process is
// forked, so both see the same slots (lock-free atomics are address-free).
class SendTimes {
 public:
  static_assert(std::atomic<int64_t>::is_always_lock_free);
  explicit SendTimes(int workers) : workers_(workers) {
    count_ = 1 + static_cast<size_t>(workers) * kSlots;
    void* memory = mmap(nullptr, count_ * sizeof(std::atomic<int64_t>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) Die(StrCat("mmap: ", std::strerror(errno)));
    ns_ = static_cast<std::atomic<int64_t>*>(memory);
    for (size_t i = 0; i < count_; ++i) new (&ns_[i]) std::atomic<int64_t>(0);
    ns_[0].store(INT64_MAX);
  }
  ~SendTimes() { munmap(ns_, count_ * sizeof(std::atomic<int64_t>)); }
  SendTimes(const SendTimes&) = delete;
  SendTimes& operator=(const SendTimes&) = delete;

  void Record(int worker, int slot, int64_t ns) {
    ns_[1 + static_cast<size_t>(worker) * kSlots + slot].store(ns, std::memory_order_release);
  }
  int64_t Get(int worker, int slot) const {
    return ns_[1 + static_cast<size_t>(worker) * kSlots + slot].load(std::memory_order_acquire);
  }
  int workers() const { return workers_; }

  // Deliveries of heartbeats sent before this are warm-up and not counted.
  void set_window_start(int64_t ns) { ns_[0].store(ns); }
  int64_t window_start() const { return ns_[0].load(); }

 private:
  int workers_;
  size_t count_;
  std::atomic<int64_t>* ns_;
};

// What the clients saw, over the window.
struct ClientResults {
  std::vector<double> latency_ms;           // send -> read
  std::vector<double> master_to_client_ms;  // received_at_ms -> read, wall clock
  int64_t unmatched = 0;
  int errors = 0;
  std::string first_error;
};

// One WebSocket client on /ws/telemetry: reads every message and, for each heartbeat, the
// time since it was sent. It looks only at the few fields it needs.
class TelemetryClient : public std::enable_shared_from_this<TelemetryClient> {
 public:
  TelemetryClient(asio::io_context& io, const SendTimes& sends)
      : ws_(asio::make_strand(io)), sends_(sends) {}

  // Connects and handshakes (blocking), then reads in the background.
  void Start(int port, const std::string& target) {
    beast::get_lowest_layer(ws_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                       static_cast<unsigned short>(port)));
    ws_.read_message_max(64 << 20);
    ws_.handshake(StrCat("127.0.0.1:", port), target);
    Read();
  }

  bool has_snapshot() const { return has_snapshot_.load(); }
  bool failed() const { return failed_.load(); }
  // Closes the connection; the pending read then ends.
  void Stop() {
    stopping_ = true;
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  // Valid once the io_context's threads are joined.
  void AddTo(ClientResults& results) const {
    results.latency_ms.insert(results.latency_ms.end(), latency_ms_.begin(), latency_ms_.end());
    results.master_to_client_ms.insert(results.master_to_client_ms.end(),
                                       master_to_client_ms_.begin(), master_to_client_ms_.end());
    results.unmatched += unmatched_;
    if (failed()) {
      if (results.errors++ == 0) results.first_error = error_;
    }
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      if (!stopping_) {
        error_ = ec.message();
        failed_ = true;
      }
      return;
    }
    const int64_t now = SteadyNs();
    const auto data = buffer_.data();
    Handle(std::string_view(static_cast<const char*>(data.data()), data.size()), now);
    buffer_.consume(buffer_.size());
    Read();
  }

  void Handle(std::string_view text, int64_t now) {
    const std::string_view type = JsonValue(text, "\"type\"");
    if (type == "snapshot") {
      has_snapshot_ = true;
      return;
    }
    if (type != "heartbeat") return;
    const std::string_view id = JsonValue(text, "\"worker_id\"");
    const std::string cpu(JsonValue(text, "\"cpu_usage\""));
    if (id.substr(0, 4) != "sim-" || cpu.empty()) {
      ++unmatched_;
      return;
    }
    const int worker = std::atoi(std::string(id.substr(4)).c_str());
    const double usage = std::strtod(cpu.c_str(), nullptr);
    const long slot = std::lround(usage - 0.25);
    if (worker < 0 || worker >= sends_.workers() || slot < 0 || slot >= kSlots ||
        usage != static_cast<double>(slot) + 0.25) {
      ++unmatched_;
      return;
    }
    const int64_t sent = sends_.Get(worker, static_cast<int>(slot));
    if (sent == 0 || sent > now) {
      ++unmatched_;
      return;
    }
    if (sent < sends_.window_start()) return;  // warm-up
    latency_ms_.push_back(static_cast<double>(now - sent) / 1e6);
    // received_at_ms is the message's last field.
    const size_t received_at = text.rfind("\"received_at_ms\"");
    if (received_at != std::string_view::npos) {
      const std::string received(JsonValue(text, "\"received_at_ms\"", received_at));
      master_to_client_ms_.push_back(
          static_cast<double>(WallMs() - std::strtoll(received.c_str(), nullptr, 10)));
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  const SendTimes& sends_;
  std::atomic<bool> has_snapshot_{false}, failed_{false}, stopping_{false};
  std::vector<double> latency_ms_, master_to_client_ms_;
  int64_t unmatched_ = 0;
  std::string error_;
};

// Every client, on one io_context run by `threads` threads, every read asynchronous.
class ClientFleet {
 public:
  ClientFleet(const SendTimes& sends, int clients, int threads)
      : sends_(sends), clients_(clients), work_(asio::make_work_guard(io_)) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this] { io_.run(); });
  }
  ~ClientFleet() { Stop(); }

  // Connects every client; empty, or what failed.
  std::string Connect(int port, const std::string& target) {
    for (int c = 0; c < clients_; ++c) {
      auto client = std::make_shared<TelemetryClient>(io_, sends_);
      try {
        client->Start(port, target);
      } catch (const std::exception& e) {
        return StrCat("WebSocket client ", c, ": ", e.what());
      }
      clients_list_.push_back(std::move(client));
    }
    return "";
  }

  bool WaitSnapshots() {
    return integration::WaitUntil(
        [&] {
          for (const auto& client : clients_list_) {
            if (!client->has_snapshot() || client->failed()) return false;
          }
          return true;
        },
        std::chrono::seconds(60), milliseconds(10));
  }

  ClientResults Stop() {
    ClientResults results;
    if (threads_.empty()) return results;
    for (auto& client : clients_list_) client->Stop();
    work_.reset();
    for (auto& th : threads_) th.join();
    threads_.clear();
    for (const auto& client : clients_list_) client->AddTo(results);
    return results;
  }

 private:
  const SendTimes& sends_;
  const int clients_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<TelemetryClient>> clients_list_;
};

// ---- the client process and its line protocol over a socket pair ----------------------

void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die(StrCat("client process pipe: ", std::strerror(errno)));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void ReadAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Die("the client process went away");
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::string ReadLine(int fd) {
  std::string line;
  char c;
  for (;;) {
    ReadAll(fd, &c, 1);
    if (c == '\n') return line;
    line.push_back(c);
  }
}

void WriteLine(int fd, const std::string& line) {
  const std::string text = line + "\n";
  WriteAll(fd, text.data(), text.size());
}

void WriteDoubles(int fd, const std::vector<double>& values) {
  WriteLine(fd, std::to_string(values.size()));
  WriteAll(fd, values.data(), values.size() * sizeof(double));
}

std::vector<double> ReadDoubles(int fd) {
  std::vector<double> values(std::stoull(ReadLine(fd)));
  ReadAll(fd, values.data(), values.size() * sizeof(double));
  return values;
}

// The client process: "<port> <target>" in; "ready" (or "error <what>") out once every
// client has its snapshot; "stop" in; the results out.
int ClientProcess(int fd, const SendTimes& sends, const Flags& flags) {
  std::istringstream go(ReadLine(fd));
  int port = 0;
  std::string target;
  go >> port >> target;
  ClientFleet fleet(sends, flags.clients, flags.client_threads);
  if (std::string error = fleet.Connect(port, target); !error.empty()) {
    WriteLine(fd, "error " + error);
    return 1;
  }
  if (!fleet.WaitSnapshots()) {
    WriteLine(fd, "error the WebSocket clients did not all get their snapshot");
    return 1;
  }
  WriteLine(fd, "ready");
  ReadLine(fd);  // stop
  ClientResults results = fleet.Stop();
  WriteLine(fd, StrCat(results.unmatched, " ", results.errors));
  WriteLine(fd, results.first_error);
  WriteDoubles(fd, results.latency_ms);
  WriteDoubles(fd, results.master_to_client_ms);
  return 0;
}

// The clients as the load generator sees them: in a child process, or here.
class Clients {
 public:
  Clients(const SendTimes& sends, const Flags& flags) : sends_(sends), flags_(flags) {
    if (flags.in_process) return;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      Die(StrCat("socketpair: ", std::strerror(errno)));
    }
    pid_ = fork();
    if (pid_ < 0) Die(StrCat("fork: ", std::strerror(errno)));
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(fds[0]);
      std::cout.flush();
      _exit(ClientProcess(fds[1], sends, flags));
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Clients() {
    if (pid_ > 0) {
      ::close(fd_);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // The client process (0 with --in-process).
  pid_t pid() const { return pid_ > 0 ? pid_ : 0; }

  // Connects every client and waits for their snapshots; dies on failure.
  void Start(int port, const std::string& target) {
    if (flags_.in_process) {
      fleet_ = std::make_unique<ClientFleet>(sends_, flags_.clients, flags_.client_threads);
      if (std::string error = fleet_->Connect(port, target); !error.empty()) Die(error);
      if (!fleet_->WaitSnapshots()) Die("the WebSocket clients did not all get their snapshot");
      return;
    }
    WriteLine(fd_, StrCat(port, " ", target));
    const std::string answer = ReadLine(fd_);
    if (answer != "ready") Die(StrCat("client process: ", answer));
  }

  ClientResults Stop() {
    if (flags_.in_process) return fleet_->Stop();
    WriteLine(fd_, "stop");
    ClientResults results;
    std::istringstream counts(ReadLine(fd_));
    counts >> results.unmatched >> results.errors;
    results.first_error = ReadLine(fd_);
    results.latency_ms = ReadDoubles(fd_);
    results.master_to_client_ms = ReadDoubles(fd_);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    ::close(fd_);
    return results;
  }

 private:
  const SendTimes& sends_;
  const Flags& flags_;
  pid_t pid_ = 0;
  int fd_ = -1;
  std::unique_ptr<ClientFleet> fleet_;
};

std::string PercentEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

int Run(const Flags& flags) {
  // Forked first, while this process has a single thread.
  SendTimes sends(flags.workers);
  Clients clients(sends, flags);

  SimulatedWorkerEndpoint endpoint;
  BenchCluster cluster("ws", "exec", flags.keep);
  cluster.StartMaster();
  const pid_t master = cluster.master()->pid();
  std::unique_ptr<Simulator> joined = JoinSimulatedWorkers(cluster, endpoint, flags.workers);
  Simulator& sim = *joined;
  clients.Start(cluster.http_port(),
                StrCat("/ws/telemetry?token=", PercentEncode(cluster.token())));

  // Each thread owns an equal share of the workers and sends each one's heartbeat at its
  // own offset within the period; round r carries sequence r.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked_in_window{0}, failed{0};
  std::vector<std::vector<double>> rpc_ms(flags.threads);
  std::vector<std::thread> senders;
  const auto start = SteadyClock::now();
  for (int t = 0; t < flags.threads; ++t) {
    senders.emplace_back([&, t] {
      for (int64_t round = 0; !stop; ++round) {
        const int slot = static_cast<int>(round % kSlots);
        for (int i = t; i < flags.workers && !stop; i += flags.threads) {
          // --bursts: the workers in five groups, each group at once (as every worker
          // joining in the same second would).
          const auto offset = flags.bursts ? kPeriod / 5 * (i * 5 / flags.workers)
                                           : kPeriod * i / flags.workers;
          std::this_thread::sleep_until(start + round * kPeriod + offset);
          if (stop) break;
          const int64_t sent = SteadyNs();
          sends.Record(i, slot, sent);
          const bool ok = sim.Beat(i, slot + 0.25);
          const int64_t acked = SteadyNs();
          if (!ok) {
            failed.fetch_add(1);
          } else if (sent >= sends.window_start()) {
            acked_in_window.fetch_add(1);
            rpc_ms[t].push_back(static_cast<double>(acked - sent) / 1e6);
          }
        }
      }
    });
  }
  // Measure after one whole period, for the rest of the run.
  std::this_thread::sleep_until(start + kPeriod);
  const double cpu0 = CpuSeconds(master);
  const double clients_cpu0 = clients.pid() ? CpuSeconds(clients.pid()) : 0;
  const auto t0 = SteadyClock::now();
  sends.set_window_start(SteadyNs());
  std::this_thread::sleep_until(start + std::chrono::seconds(flags.seconds));
  stop = true;
  for (auto& th : senders) th.join();
  const double window = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double busy_percent = 100 * (CpuSeconds(master) - cpu0) / window;
  const double clients_percent =
      clients.pid() ? 100 * (CpuSeconds(clients.pid()) - clients_cpu0) / window : 0;

  // Let the last deliveries arrive, then stop the clients.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ClientResults results = clients.Stop();
  if (results.errors > 0) {
    std::cerr << "cloudai-bench-ws: " << results.errors
              << " clients failed; the first: " << results.first_error << "\n";
  }

  std::vector<double> rpc;
  for (const auto& v : rpc_ms) rpc.insert(rpc.end(), v.begin(), v.end());
  const std::vector<double>& ws = results.latency_ms;
  const int64_t expected = acked_in_window.load() * flags.clients;
  const int64_t received = static_cast<int64_t>(ws.size());
  const double ws50 = Percentile(ws, 0.50), ws99 = Percentile(ws, 0.99);
  const double rpc50 = Percentile(rpc, 0.50), rpc99 = Percentile(rpc, 0.99);
  const double ws_max = ws.empty() ? 0 : *std::max_element(ws.begin(), ws.end());
  std::cout << std::fixed << std::setprecision(2) << "workers=" << flags.workers
            << "\nclients=" << flags.clients
            << "\nclients_in=" << (flags.in_process ? "this process" : "their own process")
            << "\nheartbeats_sent=" << (flags.bursts ? "in bursts" : "spread")
            << "\nws_latency_ms_p50=" << ws50 << "\nws_latency_ms_p99=" << ws99
            << "\nws_latency_ms_max=" << ws_max
            << "\nmaster_to_client_ms_p50=" << Percentile(results.master_to_client_ms, 0.50)
            << "\nmaster_to_client_ms_p99=" << Percentile(results.master_to_client_ms, 0.99)
            << "\nrpc_latency_ms_p50=" << rpc50 << "\nrpc_latency_ms_p99=" << rpc99
            << "\nws_over_rpc_p50_ratio=" << (rpc50 > 0 ? ws50 / rpc50 : 0)
            << "\nws_over_rpc_p99_ratio=" << (rpc99 > 0 ? ws99 / rpc99 : 0) << std::setprecision(1)
            << "\nmaster_cpu_percent=" << busy_percent
            << "\nclients_cpu_percent=" << clients_percent << "\nmessages_received=" << received
            << "\nmessages_expected=" << expected << "\nmessages_unmatched=" << results.unmatched
            << "\nheartbeats_per_s=" << static_cast<double>(acked_in_window.load()) / window
            << "\nheartbeats_failed=" << failed.load() << "\nclient_errors=" << results.errors
            << std::endl;
  return received == expected && failed.load() == 0 && results.errors == 0 &&
                 results.unmatched == 0
             ? 0
             : 1;
}

}  // namespace
}  // namespace cloudai::bench

int main(int argc, char** argv) {
  cloudai::bench::Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> int {
      if (i + 1 >= argc) cloudai::bench::Die(arg + " needs a value");
      return std::atoi(argv[++i]);
    };
    if (arg == "--workers") {
      flags.workers = value();
    } else if (arg == "--clients") {
      flags.clients = value();
    } else if (arg == "--seconds") {
      flags.seconds = value();
    } else if (arg == "--threads") {
      flags.threads = value();
    } else if (arg == "--client-threads") {
      flags.client_threads = value();
    } else if (arg == "--in-process") {
      flags.in_process = true;
    } else if (arg == "--bursts") {
      flags.bursts = true;
    } else if (arg == "--keep") {
      flags.keep = true;
    } else {
      std::cerr << "usage: cloudai-bench-ws [--workers N] [--clients C] [--seconds S] "
                   "[--threads T] [--client-threads T] [--in-process] [--bursts] [--keep]\n";
      return 2;
    }
  }
  if (flags.workers <= 0 || flags.clients <= 0 || flags.threads <= 0 ||
      flags.client_threads <= 0 || flags.seconds < 10) {
    std::cerr << "cloudai-bench-ws: --workers, --clients, --threads and --client-threads must "
                 "be positive, --seconds at least 10\n";
    return 2;
  }
  return cloudai::bench::Run(flags);
}
