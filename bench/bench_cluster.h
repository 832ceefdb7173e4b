// BenchCluster: a real CloudAI cluster for the whole-process benchmarks — a master and
// workers started as processes on loopback in a scratch directory, and a ClusterService
// client holding the admin token — plus small helpers the benchmarks share.
//
// Thread safety: Prepare() and stub() may be used from several threads at once; the
// rest from one thread.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cloudai/v1/cluster.grpc.pb.h"
#include "common/strings.h"
#include "harness.h"

namespace cloudai::bench {

using integration::FreePort;
using integration::Process;
using integration::ProcessOptions;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] inline void Die(const std::string& what) {
  std::cerr << "cloudai-bench: " << what << std::endl;
  std::exit(1);
}

// The benchmarks' command lines: "--name value" for the integer and text flags, "--name"
// alone for the switches. Anything else prints `usage` and exits 2.
struct FlagSet {
  std::map<std::string, int*> ints;
  std::map<std::string, std::string*> texts;
  std::map<std::string, bool*> switches;
};
inline void ParseFlags(int argc, char** argv, const FlagSet& flags, const std::string& usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (auto s = flags.switches.find(arg); s != flags.switches.end()) {
      *s->second = true;
      continue;
    }
    const bool takes_value = flags.ints.count(arg) != 0 || flags.texts.count(arg) != 0;
    if (!takes_value || i + 1 >= argc) {
      std::cerr << (takes_value ? arg + " needs a value\n" : "") << "usage: " << usage << "\n";
      std::exit(2);
    }
    const std::string value = argv[++i];
    if (auto t = flags.texts.find(arg); t != flags.texts.end()) {
      *t->second = value;
    } else {
      *flags.ints.at(arg) = std::atoi(value.c_str());
    }
  }
}

inline int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// A master and two workers in a scratch directory.
class BenchCluster {
 public:
  // `name` names the scratch directory; `driver` is the workers' (exec or docker); with
  // `keep` the directory stays for a look afterwards.
  BenchCluster(std::string name, std::string driver, bool keep)
      : driver_(std::move(driver)), keep_(keep) {
    dir_ = StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "/cloudai-bench-", name,
                  "-", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/state");
    port_ = FreePort();
    http_port_ = FreePort();
  }
  ~BenchCluster() {
    workers_.clear();
    master_.reset();
    if (!keep_) std::filesystem::remove_all(dir_);
  }

  const std::string& dir() const { return dir_; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string address() const { return StrCat("127.0.0.1:", port_); }
  // The master's HTTP port (REST, WebSocket) on 127.0.0.1.
  int http_port() const { return http_port_; }
  // The admin token, once connected.
  const std::string& token() const { return token_; }

  void StartMaster() {
    SpawnMaster("master.log");
    if (!master_->WaitForLine("serving gRPC on", std::chrono::seconds(60))) {
      Die("the master did not start:\n" + master_->LogTail());
    }
    Connect();
  }
  void KillMaster() {
    master_->Signal(SIGKILL);
    master_->Wait(std::chrono::seconds(10));
    master_.reset();
  }
  // Starts the master process without waiting for it, its output in `log`.
  void SpawnMaster(const std::string& log) {
    ProcessOptions options;
    options.args = {CLOUDAI_MASTER_BIN, "--grpc-port", address(), "--state-dir", state_dir(),
                    "--http-port", StrCat("127.0.0.1:", http_port_)};
    options.log_path = StrCat(dir_, "/", log);
    std::string error;
    master_ = Process::Start(options, &error);
    if (!master_) Die("cannot start the master: " + error);
  }

  // Starts a worker; its address.
  std::string StartWorker(const std::string& id) {
    const int port = FreePort();
    ProcessOptions options;
    options.args = {CLOUDAI_WORKER_BIN, "--id", id, "--port", std::to_string(port),
                    "--listen-host", "127.0.0.1", "--advertise-host", "127.0.0.1", "--driver",
                    driver_, "--work-dir", StrCat(dir_, "/", id)};
    options.log_path = StrCat(dir_, "/", id, ".log");
    std::string error;
    auto process = Process::Start(options, &error);
    if (!process) Die("cannot start worker " + id + ": " + error);
    auto line = process->WaitForRegex(std::regex("serving on ([0-9.]+:[0-9]+)"),
                                      std::chrono::seconds(60));
    if (!line) Die("worker " + id + " did not start:\n" + process->LogTail());
    workers_.push_back(std::move(process));
    return (*line)[1];
  }

  void Connect() {
    std::string token = integration::ReadFile(state_dir() + "/admin.token");
    while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
    token_ = token;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(256 << 20);
    // Retry a master that is not up yet every few ms, not with gRPC's 1 s+ backoff:
    // recovery is timed through this channel.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 5);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 20);
    stub_ = v1::ClusterService::NewStub(
        grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args));
  }
  void Prepare(grpc::ClientContext& context, int seconds = 30) const {
    context.AddMetadata("authorization", "Bearer " + token_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  }
  v1::ClusterService::Stub& stub() { return *stub_; }

  void Register(const std::string& id, const std::string& address) {
    grpc::ClientContext context;
    Prepare(context);
    v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_worker_ip(address);
    v1::Ack ack;
    grpc::Status status = stub_->RegisterWorker(&context, request, &ack);
    if (!status.ok()) Die("register " + id + ": " + status.error_message());
  }

  // Waits until `n` workers are active.
  void AwaitActive(size_t n) {
    bool ok = integration::WaitUntil(
        [&] {
          grpc::ClientContext context;
          Prepare(context);
          v1::ListWorkersResponse response;
          if (!stub_->ListWorkers(&context, {}, &response).ok()) return false;
          size_t active = 0;
          for (const auto& w : response.workers()) active += w.is_active();
          return active >= n;
        },
        std::chrono::seconds(60), milliseconds(20));
    if (!ok) Die("workers did not become active:\n" + master_->LogTail());
  }

  void StartTwoWorkers() {
    for (const char* id : {"bench-w1", "bench-w2"}) Register(id, StartWorker(id));
    AwaitActive(2);
  }

  Process* master() { return master_.get(); }

 private:
  const std::string driver_;
  const bool keep_;
  std::string dir_;
  int port_ = 0;
  int http_port_ = 0;
  std::unique_ptr<Process> master_;
  std::vector<std::unique_ptr<Process>> workers_;
  std::string token_;
  std::unique_ptr<v1::ClusterService::Stub> stub_;
};


}  // namespace cloudai::bench
