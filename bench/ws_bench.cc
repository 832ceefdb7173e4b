// cloudai-bench-ws: telemetry fan-out, heartbeat to WebSocket client.
//
// Starts a real master, registers and joins N simulated workers (default 1,000), opens C
// WebSocket clients (default 50) on /ws/telemetry, waits for their snapshots, then has each
// worker heartbeat every 5 s (spread evenly over the period) for --seconds. Each heartbeat
// carries its per-worker sequence number in its CPU usage (seq % 100 + 0.25, exact in binary
// and in JSON), so that a client that receives {"type": "heartbeat", "worker": ...} can look
// up when this process sent it (steady clock, same process). Prints, over the window after
// the first period:
//   ws_latency_ms_p50=, ws_latency_ms_p99=, ws_latency_ms_max=
//                         <heartbeat sent -> message read by a client, every delivery>
//   rpc_latency_ms_p50=, rpc_latency_ms_p99=
//                         <heartbeat sent -> its ack: the baseline measured in the same run>
//   ws_over_rpc_p50_ratio=, ws_over_rpc_p99_ratio=
//   master_cpu_percent=   <the master's CPU time over the window, in % of one core>
//   messages_received=, messages_expected=
//                         <deliveries of the window's heartbeats; expected: heartbeats
//                          acknowledged x clients>
//
//   cloudai-bench-ws [--workers 1000] [--clients 50] [--seconds 30] [--threads 4] [--keep]
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
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
  bool keep = false;
};

constexpr int kSlots = 100;  // sequence numbers told apart per worker
constexpr auto kPeriod = std::chrono::seconds(5);

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

// The raw JSON value after `"key":` in `text` from `from` on (a string's quotes stripped);
// empty when absent.
std::string_view JsonValue(std::string_view text, std::string_view key, size_t from = 0) {
  const std::string quoted = StrCat("\"", key, "\"");
  size_t at = text.find(quoted, from);
  if (at == std::string_view::npos) return {};
  at += quoted.size();
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
// read by the clients.
class SendTimes {
 public:
  explicit SendTimes(int workers) : ns_(static_cast<size_t>(workers) * kSlots) {}
  void Record(int worker, int slot, int64_t ns) {
    ns_[static_cast<size_t>(worker) * kSlots + slot].store(ns, std::memory_order_release);
  }
  int64_t Get(int worker, int slot) const {
    return ns_[static_cast<size_t>(worker) * kSlots + slot].load(std::memory_order_acquire);
  }
  int workers() const { return static_cast<int>(ns_.size() / kSlots); }

  // Deliveries of heartbeats sent before this are warm-up and not counted.
  std::atomic<int64_t> window_start_ns{INT64_MAX};

 private:
  std::vector<std::atomic<int64_t>> ns_;
};

// One WebSocket client on /ws/telemetry: reads every message and, for each heartbeat, the
// time since it was sent.
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
  const std::vector<double>& latencies_ms() const { return latencies_ms_; }
  int64_t unmatched() const { return unmatched_; }
  const std::string& error() const { return error_; }

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
    const std::string_view type = JsonValue(text, "type");
    if (type == "snapshot") {
      has_snapshot_ = true;
      return;
    }
    if (type != "heartbeat") return;
    const size_t worker_at = text.find("\"worker\"");
    const std::string_view id = JsonValue(text, "worker_id", worker_at);
    const std::string cpu(JsonValue(text, "cpu_usage", worker_at));
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
    if (sent < sends_.window_start_ns.load()) return;  // warm-up
    latencies_ms_.push_back(static_cast<double>(now - sent) / 1e6);
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  const SendTimes& sends_;
  std::atomic<bool> has_snapshot_{false}, failed_{false}, stopping_{false};
  std::vector<double> latencies_ms_;
  int64_t unmatched_ = 0;
  std::string error_;
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
  BenchCluster cluster("ws", "exec", flags.keep);
  cluster.StartMaster();
  const pid_t master = cluster.master()->pid();
  std::unique_ptr<Simulator> joined = JoinSimulatedWorkers(cluster, flags.workers);
  Simulator& sim = *joined;

  // The clients: one io_context, two threads, every read asynchronous.
  SendTimes sends(flags.workers);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> io_threads;
  for (int t = 0; t < 2; ++t) io_threads.emplace_back([&io] { io.run(); });
  const std::string target = StrCat("/ws/telemetry?token=", PercentEncode(cluster.token()));
  std::vector<std::shared_ptr<TelemetryClient>> clients;
  for (int c = 0; c < flags.clients; ++c) {
    auto client = std::make_shared<TelemetryClient>(io, sends);
    try {
      client->Start(cluster.http_port(), target);
    } catch (const std::exception& e) {
      Die(StrCat("WebSocket client ", c, ": ", e.what(), "\n", cluster.master()->LogTail()));
    }
    clients.push_back(std::move(client));
  }
  const bool snapshots = integration::WaitUntil(
      [&] {
        for (const auto& client : clients) {
          if (!client->has_snapshot() || client->failed()) return false;
        }
        return true;
      },
      std::chrono::seconds(60), milliseconds(10));
  if (!snapshots) Die("the WebSocket clients did not all get their snapshot");

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
          std::this_thread::sleep_until(start + round * kPeriod + kPeriod * i / flags.workers);
          if (stop) break;
          const int64_t sent = SteadyNs();
          sends.Record(i, slot, sent);
          const bool ok = sim.Beat(i, slot + 0.25);
          const int64_t acked = SteadyNs();
          if (!ok) {
            failed.fetch_add(1);
          } else if (sent >= sends.window_start_ns.load()) {
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
  const auto t0 = SteadyClock::now();
  sends.window_start_ns = SteadyNs();
  std::this_thread::sleep_until(start + std::chrono::seconds(flags.seconds));
  stop = true;
  for (auto& th : senders) th.join();
  const double window = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double busy_percent = 100 * (CpuSeconds(master) - cpu0) / window;

  // Let the last deliveries arrive, then stop the clients.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  for (auto& client : clients) client->Stop();
  work.reset();
  for (auto& th : io_threads) th.join();

  std::vector<double> ws, rpc;
  int64_t unmatched = 0;
  int client_errors = 0;
  for (const auto& client : clients) {
    ws.insert(ws.end(), client->latencies_ms().begin(), client->latencies_ms().end());
    unmatched += client->unmatched();
    if (client->failed()) {
      ++client_errors;
      std::cerr << "cloudai-bench-ws: a client failed: " << client->error() << "\n";
    }
  }
  for (const auto& v : rpc_ms) rpc.insert(rpc.end(), v.begin(), v.end());
  const int64_t expected = acked_in_window.load() * flags.clients;
  const int64_t received = static_cast<int64_t>(ws.size());
  const double ws50 = Percentile(ws, 0.50), ws99 = Percentile(ws, 0.99);
  const double rpc50 = Percentile(rpc, 0.50), rpc99 = Percentile(rpc, 0.99);
  const double ws_max = ws.empty() ? 0 : *std::max_element(ws.begin(), ws.end());
  std::cout << std::fixed << std::setprecision(2) << "workers=" << flags.workers
            << "\nclients=" << flags.clients << "\nws_latency_ms_p50=" << ws50
            << "\nws_latency_ms_p99=" << ws99 << "\nws_latency_ms_max=" << ws_max
            << "\nrpc_latency_ms_p50=" << rpc50 << "\nrpc_latency_ms_p99=" << rpc99
            << "\nws_over_rpc_p50_ratio=" << (rpc50 > 0 ? ws50 / rpc50 : 0)
            << "\nws_over_rpc_p99_ratio=" << (rpc99 > 0 ? ws99 / rpc99 : 0) << std::setprecision(1)
            << "\nmaster_cpu_percent=" << busy_percent << "\nmessages_received=" << received
            << "\nmessages_expected=" << expected << "\nmessages_unmatched=" << unmatched
            << "\nheartbeats_per_s=" << static_cast<double>(acked_in_window.load()) / window
            << "\nheartbeats_failed=" << failed.load() << "\nclient_errors=" << client_errors
            << std::endl;
  return received == expected && failed.load() == 0 && client_errors == 0 && unmatched == 0 ? 0
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
    } else if (arg == "--keep") {
      flags.keep = true;
    } else {
      std::cerr << "usage: cloudai-bench-ws [--workers N] [--clients C] [--seconds S] "
                   "[--threads T] [--keep]\n";
      return 2;
    }
  }
  if (flags.workers <= 0 || flags.clients <= 0 || flags.threads <= 0 || flags.seconds < 10) {
    std::cerr << "cloudai-bench-ws: --workers, --clients and --threads must be positive, "
                 "--seconds at least 10\n";
    return 2;
  }
  return cloudai::bench::Run(flags);
}
