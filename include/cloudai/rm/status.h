// Status and Result: how the CloudAI resource manager reports expected failures.
//
// Every operation that can fail returns a Status (a code plus a message that says what
// to change) or, for factories and queries, a Result<T> holding either a value or a
// non-OK Status. Nothing in the library throws for expected failures.
//
// Thread safety: Status and Result are plain values; distinct objects may be used from
// different threads freely, and a const object may be shared.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace cloudai::rm {

enum class Code {
  kOk = 0,
  // The resources are temporarily unavailable: a try-acquire failed, or the request would
  // have to wait. Retry later, or use a blocking Acquire.
  kExhausted,
  // The agent's quota for a resource type would be exceeded.
  kQuotaExceeded,
  // Waiting would close a cycle in the wait-for graph; the request was refused instead.
  kDeadlockDetected,
  // A capacity is zero, negative or out of range.
  kInvalidCapacity,
  // A rate is zero, negative, not finite or out of range.
  kInvalidRate,
  // A release of more than is held (or of something never acquired). Nothing changed.
  kNotAcquired,
  // The request's stop_token was triggered before it was granted.
  kCancelled,
  // The request's deadline passed before it was granted.
  kDeadlineExceeded,
  // A resource type name that is not configured.
  kUnknownResource,
  // Any other malformed input (empty agent, non-positive amount, request above capacity...).
  kInvalidArgument,
  // The component was stopped; it grants nothing any more (releases still work).
  kStopped,
};

// The code's name without the leading 'k', e.g. "DeadlockDetected".
const char* CodeName(Code code);

class Status {
 public:
  // An OK status.
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value of type T or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // `status` must not be OK; an OK status without a value becomes kInvalidArgument.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(Code::kInvalidArgument, "Result built from OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Calling these on an error Result is a programming error: it prints the status and aborts.
  T& value() & { return CheckedValue(); }
  const T& value() const& { return const_cast<Result*>(this)->CheckedValue(); }
  T&& value() && { return std::move(CheckedValue()); }
  T& operator*() & { return CheckedValue(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(CheckedValue()); }
  T* operator->() { return &CheckedValue(); }
  const T* operator->() const { return &value(); }

 private:
  T& CheckedValue() {
    if (!value_.has_value()) {
      std::fprintf(stderr, "cloudai::rm::Result::value() on error: %s\n",
                   status_.ToString().c_str());
      std::abort();
    }
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace cloudai::rm
