#include "master/http/rest_handlers.h"

#include <charconv>

#include "common/strings.h"
#include "master/http/cluster_feed.h"
#include "master/http/json.h"
#include "master/proto_convert.h"

namespace cloudai::master::http {
namespace {

// An integer query parameter; `fallback` when absent.
absl::StatusOr<int64_t> QueryInt(const HttpRequest& request, const std::string& name,
                                 int64_t fallback) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return fallback;
  int64_t value = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(StrCat(name, ": \"", text.substr(0, 64),
                                             "\" is not an integer"));
  }
  return value;
}

absl::StatusOr<bool> QueryBool(const HttpRequest& request, const std::string& name) {
  const std::string value = AsciiLower(request.Query(name));
  if (value.empty() || value == "0" || value == "false" || value == "no") return false;
  if (value == "1" || value == "true" || value == "yes") return true;
  return absl::InvalidArgumentError(StrCat(name, ": \"", value.substr(0, 64),
                                           "\" is not one of 1, 0, true, false"));
}

template <typename Message>
HttpResponse Answer(const absl::StatusOr<Message>& answer, int status = 200) {
  if (!answer.ok()) return ErrorResponse(answer.status());
  return JsonResponse(ProtoToJson(*answer), status);
}

// Wraps a handler with the token check.
Handler Authorized(const ClusterApi& api, Handler handler) {
  return [&api, handler = std::move(handler)](const HttpRequest& request) {
    if (absl::Status auth = AuthorizeRequest(api, request); !auth.ok()) {
      HttpResponse response = ErrorResponse(auth);
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      return response;
    }
    return handler(request);
  };
}

void AddResources(Resources* sum, const Resources& more) {
  if (absl::StatusOr<Resources> added = Add(*sum, more); added.ok()) *sum = std::move(*added);
}

HttpResponse ClusterSummary(ClusterApi& api) {
  ClusterCounts counts = api.Counts();
  Resources total, allocated;
  for (const WorkerView& worker : api.cluster().ListWorkers()) {
    if (!worker.record.is_active) continue;
    AddResources(&total, worker.record.total);
    AddResources(&allocated, worker.allocated);
  }
  return JsonResponse(StrCat(
      "{\"workers\": ", counts.workers, ", \"active_workers\": ", counts.active_workers,
      ", \"queued\": ", counts.queued, ", \"scheduled\": ", counts.scheduled,
      ", \"running\": ", counts.running, ", \"total\": ", ProtoToJson(ResourcesToProto(total)),
      ", \"allocated\": ", ProtoToJson(ResourcesToProto(allocated)), "}"));
}

HttpResponse Logs(ClusterApi& api, const HttpRequest& request) {
  v1::TaskLogRequest log_request;
  log_request.set_task_id(request.params.at("id"));
  absl::StatusOr<int64_t> offset = QueryInt(request, "offset", 0);
  if (!offset.ok()) return ErrorResponse(offset.status());
  absl::StatusOr<bool> follow = QueryBool(request, "follow");
  if (!follow.ok()) return ErrorResponse(follow.status());
  log_request.set_offset(*offset);
  log_request.set_follow(*follow);
  // Check the task before the 200 goes out, so that errors get their status.
  v1::TaskId id;
  id.set_task_id(log_request.task_id());
  if (absl::StatusOr<v1::TaskStatus> task = api.GetTask(id); !task.ok()) {
    return ErrorResponse(task.status());
  }
  if (*offset < 0) return ErrorResponse(absl::InvalidArgumentError("offset: is negative"));
  HttpResponse response;
  response.content_type = "text/plain; charset=utf-8";
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.stream = [&api, log_request](ChunkSink& sink) {
    absl::Status ended = api.StreamLogs(
        log_request,
        [&sink](const v1::LogChunk& chunk) {
          return chunk.content().empty() || sink.Write(chunk.content());
        },
        [&sink] { return sink.Closed(); });
    (void)ended;  // errors after the 200 went out end the body early
  };
  return response;
}

}  // namespace

absl::Status AuthorizeRequest(const ClusterApi& api, const HttpRequest& request) {
  if (std::optional<std::string_view> header = request.Header("authorization")) {
    return api.Authorize(header);
  }
  if (auto it = request.query.find("token"); it != request.query.end()) {
    return api.AuthorizeToken(it->second);
  }
  return api.Authorize(std::nullopt);
}

void AddRestRoutes(Router& router, ClusterApi& api) {
  auto add = [&](const char* method, const char* pattern, Handler handler) {
    router.Add(method, pattern, Authorized(api, std::move(handler)));
  };
  add("GET", "/api/v1/cluster", [&api](const HttpRequest&) { return ClusterSummary(api); });
  add("GET", "/api/v1/workers", [&api](const HttpRequest&) {
    return Answer(api.ListWorkers(v1::ListWorkersRequest()));
  });
  add("GET", "/api/v1/workers/{id}", [&api](const HttpRequest& request) {
    v1::WorkerIdRequest message;
    message.set_worker_id(request.params.at("id"));
    return Answer(api.GetWorker(message));
  });
  add("POST", "/api/v1/workers", [&api](const HttpRequest& request) {
    v1::RegisterWorkerRequest message;
    if (absl::Status s = ProtoFromJson(request.body, "body (RegisterWorkerRequest)", &message);
        !s.ok()) {
      return ErrorResponse(s);
    }
    return Answer(api.RegisterWorker(message), 201);
  });
  add("DELETE", "/api/v1/workers/{id}", [&api](const HttpRequest& request) {
    v1::WorkerIdRequest message;
    message.set_worker_id(request.params.at("id"));
    return Answer(api.UnregisterWorker(message));
  });
  add("GET", "/api/v1/tasks", [&api](const HttpRequest& request) {
    v1::ListTasksRequest message;
    message.set_status(request.Query("status"));
    message.set_worker_id(request.Query("worker"));
    message.set_after_task_id(request.Query("after"));
    absl::StatusOr<int64_t> limit = QueryInt(request, "limit", 0);
    if (!limit.ok()) return ErrorResponse(limit.status());
    if (*limit < 0 || *limit > 1'000'000) {
      return ErrorResponse(absl::InvalidArgumentError(StrCat("limit: ", *limit, " is out of range")));
    }
    message.set_limit(static_cast<int32_t>(*limit));
    return Answer(api.ListTasks(message));
  });
  add("POST", "/api/v1/tasks", [&api](const HttpRequest& request) {
    v1::SubmitTaskRequest message;
    if (absl::Status s = ProtoFromJson(request.body, "body (Task)", message.mutable_task());
        !s.ok()) {
      return ErrorResponse(s);
    }
    if (!message.task().target_worker_id().empty() && message.task().allocation_id().empty()) {
      return Answer(api.AssignTask(message), 201);
    }
    return Answer(api.SubmitTask(message), 201);
  });
  add("GET", "/api/v1/tasks/{id}", [&api](const HttpRequest& request) {
    v1::TaskId message;
    message.set_task_id(request.params.at("id"));
    return Answer(api.GetTask(message));
  });
  add("GET", "/api/v1/tasks/{id}/events", [&api](const HttpRequest& request) {
    v1::TaskId message;
    message.set_task_id(request.params.at("id"));
    absl::StatusOr<std::vector<store::TaskEvent>> events = api.TaskEvents(message);
    if (!events.ok()) return ErrorResponse(events.status());
    std::string body = "{\"events\": [";
    for (size_t i = 0; i < events->size(); ++i) {
      StrAppend(&body, i > 0 ? ", " : "", ClusterFeed::EventJson((*events)[i]));
    }
    body.append("]}");
    return JsonResponse(std::move(body));
  });
  add("POST", "/api/v1/tasks/{id}/cancel", [&api](const HttpRequest& request) {
    v1::TaskId message;
    message.set_task_id(request.params.at("id"));
    return Answer(api.CancelTask(message));
  });
  add("GET", "/api/v1/tasks/{id}/logs",
      [&api](const HttpRequest& request) { return Logs(api, request); });
  add("GET", "/api/v1/queue", [&api](const HttpRequest&) {
    return Answer(api.QueueStatus(v1::QueueStatusRequest()));
  });

  // Allocations (docs/allocations.md).
  add("GET", "/api/v1/capacity", [&api](const HttpRequest&) {
    return Answer(api.GetCapacity(v1::CapacityRequest()));
  });
  add("GET", "/api/v1/allocations", [&api](const HttpRequest& request) {
    v1::ListAllocationsRequest message;
    message.set_state(request.Query("state"));
    message.set_job_id(request.Query("job_id"));
    absl::StatusOr<int64_t> limit = QueryInt(request, "limit", 0);
    if (!limit.ok()) return ErrorResponse(limit.status());
    if (*limit < 0 || *limit > 1'000'000) {
      return ErrorResponse(absl::InvalidArgumentError(StrCat("limit: ", *limit, " is out of range")));
    }
    message.set_limit(static_cast<int32_t>(*limit));
    return Answer(api.ListAllocations(message));
  });
  add("POST", "/api/v1/allocations", [&api](const HttpRequest& request) {
    v1::AllocationRequest message;
    if (absl::Status s = ProtoFromJson(request.body, "body (AllocationRequest)", &message);
        !s.ok()) {
      return ErrorResponse(s);
    }
    return Answer(api.RequestAllocation(message), 201);
  });
  add("POST", "/api/v1/allocations/cleanup", [&api](const HttpRequest&) {
    return Answer(api.CleanupExpiredAllocations(v1::CleanupRequest()));
  });
  add("GET", "/api/v1/allocations/{id}", [&api](const HttpRequest& request) {
    v1::AllocationId message;
    message.set_allocation_id(request.params.at("id"));
    return Answer(api.GetAllocation(message));
  });
  add("POST", "/api/v1/allocations/{id}/release", [&api](const HttpRequest& request) {
    v1::AllocationId message;
    message.set_allocation_id(request.params.at("id"));
    return Answer(api.ReleaseAllocation(message));
  });
  add("POST", "/api/v1/allocations/{id}/extend", [&api](const HttpRequest& request) {
    v1::ExtendAllocationRequest message;
    if (absl::Status s = ProtoFromJson(request.body.empty() ? std::string("{}") : request.body,
                                       "body (ExtendAllocationRequest)", &message);
        !s.ok()) {
      return ErrorResponse(s);
    }
    message.set_allocation_id(request.params.at("id"));
    return Answer(api.ExtendAllocation(message));
  });
}

}  // namespace cloudai::master::http
