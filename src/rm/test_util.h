// Helpers shared by the resource-manager tests.
//
// Thread safety: the helpers themselves keep no state.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <thread>

namespace cloudai::rm::testing {

// Polls `condition` until it holds or `timeout` of real time passes. Used only to wait for
// another thread to reach a state (e.g. to be blocked), never to assert on timing.
inline bool Eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// True if `future` is still unresolved after a short real-time grace period: the check
// that a blocked call did not return too early.
template <typename T>
bool StillPending(std::future<T>& future) {
  return future.wait_for(std::chrono::milliseconds(30)) == std::future_status::timeout;
}

// True if `future` resolves within a generous real-time bound.
template <typename T>
bool Resolves(std::future<T>& future) {
  return future.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
}

}  // namespace cloudai::rm::testing
