// MasterServiceImpl: the RPCs workers call on the master (seed 001's RegisterWorker,
// SendHeartbeat, ReportTaskCompletion), translated into Cluster calls.
//
// Authorization is seed 001's: only pre-registered workers may register; a refusal is
// an acknowledgement with success = false and the reason, and is logged.
//
// Heartbeats are the master's most frequent message (2,000/s for 10,000 workers), and they
// never wait for the store. Workers send them on one long-lived stream each
// (StreamHeartbeats); the unary SendHeartbeat stays for older workers. Both are served on
// gRPC's asynchronous API by a HeartbeatLoop (heartbeat_loop.h), which calls Beat() for each;
// registrations and reports wait for commits, so they stay synchronous.
//
// Thread safety: gRPC calls the methods from its threads concurrently, and Beat() may be
// called from any thread; the Cluster serialises what must be.
#pragma once

#include "cloudai/v1/cluster.grpc.pb.h"
#include "master/cluster.h"

namespace cloudai::master {

class MasterServiceImpl final
    : public v1::MasterService::WithAsyncMethod_SendHeartbeat<
          v1::MasterService::WithAsyncMethod_StreamHeartbeats<v1::MasterService::Service>> {
 public:
  explicit MasterServiceImpl(Cluster& cluster) : cluster_(cluster) {}

  grpc::Status RegisterWorker(grpc::ServerContext* context, const v1::WorkerInfo* request,
                              v1::RegisterAck* response) override;
  grpc::Status ReportTaskCompletion(grpc::ServerContext* context, const v1::TaskResult* request,
                                    v1::Ack* response) override;

  // One heartbeat's work, for either heartbeat RPC: `response` says whether the master took
  // it, and which of the tasks it lists the master does not know.
  void Beat(const v1::Heartbeat& request, v1::HeartbeatAck* response);

 private:
  Cluster& cluster_;
};

}  // namespace cloudai::master
