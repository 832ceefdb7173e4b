// The structured results of the MCP tools: CloudAI's messages as JSON objects, each next
// to the JSON Schema it conforms to (the tools' outputSchema).
//
// Numbers are JSON numbers (protobuf's own JSON form would print 64-bit integers as
// strings). Quantities are in the units the tools take: CPU in cores, memory and storage
// in GB (GiB, 1,024 MiB), GPUs in whole GPUs; all may be fractional. Times are Unix
// milliseconds in `*_ms` (0: not yet) with, when set, the same instant as RFC 3339 UTC
// text in the field of the same name without `_ms` ("created_at").
//
// Thread safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <string>

#include "mcp/backend.h"
#include "mcp/schema.h"

namespace cloudai::mcp {

// Resources: {cpu_cores, memory_gb, storage_gb, gpu[, extra]}.
Json ResourcesJson(const v1::Resources& resources);
Json ResourcesSchema();

Json ServiceEndpointJson(const v1::ServiceEndpoint& endpoint);
Json ServiceEndpointSchema();

// An allocation; its `events` only when the message carries some (GetAllocation).
Json AllocationJson(const v1::Allocation& allocation);
Json AllocationSchema();

// {allocations: [...], count}.
Json AllocationListJson(const v1::ListAllocationsResponse& response);
Json AllocationListSchema();

Json CapacityJson(const v1::Capacity& capacity);
Json CapacitySchema();

Json CleanupJson(const v1::CleanupResponse& response);
Json CleanupSchema();

// A task and its state.
Json TaskStatusJson(const v1::TaskStatus& status);
Json TaskStatusSchema();

// {task_id, offset, next_offset, content, status, final}.
Json LogSliceJson(const std::string& task_id, int64_t offset, const LogSlice& slice);
Json LogSliceSchema();

// {workers: [...], count}.
Json WorkersJson(const v1::ListWorkersResponse& response);
Json WorkersSchema();

// Unix milliseconds as RFC 3339 UTC text with milliseconds ("2025-06-18T09:30:00.000Z").
std::string FormatTimeMs(int64_t unix_ms);

// The length of the longest prefix of `text` that does not end inside a UTF-8 sequence
// (text.size() when it ends on a whole character or with bytes that are not UTF-8).
size_t WholeUtf8Prefix(const std::string& text);

}  // namespace cloudai::mcp
