#include "worker/agent/master_link.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

namespace cloudai::worker {

uint64_t MasterLink::Set(const std::string& master_id, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (channel_ == nullptr || address != target_.address) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
    channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    target_.stub = v1::MasterService::NewStub(channel_);
    target_.address = address;
  }
  target_.master_id = master_id;
  return ++target_.generation;
}

MasterLink::Target MasterLink::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return target_;
}

}  // namespace cloudai::worker
