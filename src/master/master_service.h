// MasterServiceImpl: the RPCs workers call on the master (seed 001's RegisterWorker,
// SendHeartbeat, ReportTaskCompletion), translated into Cluster calls.
//
// Authorization is seed 001's: only pre-registered workers may register; a refusal is
// an acknowledgement with success = false and the reason, and is logged.
//
// Heartbeats are the master's most frequent call (2,000/s for 10,000 workers), and they
// never wait for the store: they are answered by gRPC's callback API, on the thread that
// read them, without the hand-off to a pool thread a synchronous method costs.
// Registrations and reports wait for commits, so they stay synchronous.
//
// Thread safety: gRPC calls the methods from its threads concurrently; the Cluster
// serialises what must be.
#pragma once

#include "cloudai/v1/cluster.grpc.pb.h"
#include "master/cluster.h"

namespace cloudai::master {

class MasterServiceImpl final
    : public v1::MasterService::WithCallbackMethod_SendHeartbeat<v1::MasterService::Service> {
 public:
  explicit MasterServiceImpl(Cluster& cluster) : cluster_(cluster) {}

  grpc::Status RegisterWorker(grpc::ServerContext* context, const v1::WorkerInfo* request,
                              v1::RegisterAck* response) override;
  grpc::ServerUnaryReactor* SendHeartbeat(grpc::CallbackServerContext* context,
                                          const v1::Heartbeat* request,
                                          v1::HeartbeatAck* response) override;
  grpc::Status ReportTaskCompletion(grpc::ServerContext* context, const v1::TaskResult* request,
                                    v1::Ack* response) override;

 private:
  // The heartbeat's work, shared by nothing else but kept apart from the gRPC plumbing.
  void Beat(const v1::Heartbeat& request, v1::HeartbeatAck* response);

  Cluster& cluster_;
};

}  // namespace cloudai::master
