// MasterLink: the CloudAI worker's one long-lived gRPC channel to its master.
//
// MasterRegister (or --master, or the address saved in the work directory) points the
// link at an address; the channel is made once and reused by registration, heartbeats and
// completion reports, and replaced only when the address changes. Each Set bumps a
// generation number, so the registration loop can tell that a newer MasterRegister
// arrived (and register again) even when the address is the same. The channel retries
// its connection quickly (at most every 2 s), so a restarted master is reached soon.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "cloudai/v1/cluster.grpc.pb.h"

namespace cloudai::worker {

class MasterLink {
 public:
  struct Target {
    std::string master_id;
    std::string address;
    std::shared_ptr<v1::MasterService::Stub> stub;  // null until an address is set
    uint64_t generation = 0;
  };

  // Points the link at `address`; returns the new generation.
  uint64_t Set(const std::string& master_id, const std::string& address);
  Target Get() const;

 private:
  mutable std::mutex mu_;
  Target target_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace cloudai::worker
