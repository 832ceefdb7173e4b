// Agent log: the CloudAI worker's diagnostic lines, written to stderr with a timestamp
// ("2024-05-01T12:00:00.123Z cloudai-worker: registered with master 10.0.0.1:50051").
// stdout is kept for the lines docs/cluster.md specifies.
//
// Thread safety: LogLine may be called from any thread; each line is written whole.
#pragma once

#include <string_view>

namespace cloudai::worker {

void LogLine(std::string_view line);

}  // namespace cloudai::worker
