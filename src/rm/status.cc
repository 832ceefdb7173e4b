#include "cloudai/rm/status.h"

namespace cloudai::rm {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "Ok";
    case Code::kExhausted:
      return "Exhausted";
    case Code::kQuotaExceeded:
      return "QuotaExceeded";
    case Code::kDeadlockDetected:
      return "DeadlockDetected";
    case Code::kInvalidCapacity:
      return "InvalidCapacity";
    case Code::kInvalidRate:
      return "InvalidRate";
    case Code::kNotAcquired:
      return "NotAcquired";
    case Code::kCancelled:
      return "Cancelled";
    case Code::kDeadlineExceeded:
      return "DeadlineExceeded";
    case Code::kUnknownResource:
      return "UnknownResource";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kStopped:
      return "Stopped";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace cloudai::rm
