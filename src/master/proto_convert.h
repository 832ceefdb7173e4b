// Conversions between the master's records and the wire messages of
// proto/cloudai/v1/cluster.proto. Resource fields carry the integer units on both sides,
// so nothing is rounded. Conversions from the wire do not validate: the cluster does
// (task_input.h, Resources::Validate).
//
// Thread safety: free functions without shared state.
#pragma once

#include "cloudai/v1/cluster.pb.h"
#include "common/resources.h"
#include "master/cluster.h"
#include "store/records.h"

namespace cloudai::master {

v1::Resources ResourcesToProto(const Resources& resources);
Resources ResourcesFromProto(const v1::Resources& message);

// The Task message the worker receives (and the user's view of a task's input).
v1::Task TaskToProto(const store::TaskRecord& task);
// What the user set in a Task message; the master fills in the rest.
store::TaskRecord TaskFromProto(const v1::Task& message);

v1::TaskStatus TaskStatusToProto(const TaskView& view);
v1::WorkerStatus WorkerStatusToProto(const WorkerView& view);

v1::ServiceEndpoint ServiceToProto(const ServiceView& view);
v1::Allocation AllocationToProto(const AllocationView& view);
AllocationAsk AllocationAskFromProto(const v1::AllocationRequest& message);
// Available is total - allocated, over active workers.
v1::Capacity CapacityToProto(const CapacityView& view);

}  // namespace cloudai::master
