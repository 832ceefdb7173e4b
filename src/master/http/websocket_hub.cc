#include "master/http/websocket_hub.h"

#include <vector>

namespace cloudai::master::http {

uint64_t WebSocketHub::Add(std::shared_ptr<Subscriber> subscriber, Subscription subscription,
                           const std::function<std::string()>& first) {
  std::lock_guard<std::mutex> lock(mu_);
  if (first) {
    if (!subscriber->Offer(std::make_shared<const std::string>(first()))) {
      subscriber->Drop("too slow");
      dropped_++;
      return 0;
    }
  }
  const uint64_t id = next_id_++;
  Count(subscription, +1);
  entries_.emplace(id, Entry{std::move(subscriber), std::move(subscription)});
  return id;
}

void WebSocketHub::Remove(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Count(it->second.subscription, -1);
  entries_.erase(it);
}

void WebSocketHub::Count(const Subscription& subscription, int delta) {
  (subscription.stream == Subscription::Stream::kTelemetry ? telemetry_ : events_) += delta;
}

bool WebSocketHub::HasSubscribers(Subscription::Stream stream) const {
  return (stream == Subscription::Stream::kTelemetry ? telemetry_ : events_).load() > 0;
}

std::map<uint64_t, WebSocketHub::Entry>::iterator WebSocketHub::DropLocked(
    std::map<uint64_t, Entry>::iterator it) {
  it->second.subscriber->Drop("too slow");
  dropped_++;
  Count(it->second.subscription, -1);
  return entries_.erase(it);
}

void WebSocketHub::Publish(const Message& message,
                           const std::function<bool(const Subscription&)>& wants) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (wants(it->second.subscription) && !it->second.subscriber->Offer(message)) {
      it = DropLocked(it);
    } else {
      ++it;
    }
  }
}

void WebSocketHub::PublishHeartbeats(
    const std::vector<std::pair<std::string, Message>>& heartbeats) {
  if (heartbeats.empty()) return;
  std::vector<Message> all;
  all.reserve(heartbeats.size());
  for (const auto& [worker_id, message] : heartbeats) all.push_back(message);
  std::vector<Message> some;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Subscription& s = it->second.subscription;
    const std::vector<Message>* wanted = nullptr;
    if (s.stream != Subscription::Stream::kTelemetry) {
      wanted = nullptr;
    } else if (s.worker_id.empty()) {
      wanted = &all;
    } else {
      some.clear();
      for (const auto& [worker_id, message] : heartbeats) {
        if (worker_id == s.worker_id) some.push_back(message);
      }
      if (!some.empty()) wanted = &some;
    }
    if (wanted != nullptr && !it->second.subscriber->OfferAll(*wanted)) {
      it = DropLocked(it);
    } else {
      ++it;
    }
  }
}

void WebSocketHub::PublishHeartbeat(const std::string& worker_id, Message message) {
  Publish(message, [&worker_id](const Subscription& s) {
    return s.stream == Subscription::Stream::kTelemetry &&
           (s.worker_id.empty() || s.worker_id == worker_id);
  });
}

void WebSocketHub::PublishWorker(const std::string& worker_id, Message message) {
  Publish(message, [&worker_id](const Subscription& s) {
    return s.stream == Subscription::Stream::kEvents || s.worker_id.empty() ||
           s.worker_id == worker_id;
  });
}

void WebSocketHub::PublishEvent(Message message) {
  Publish(message,
          [](const Subscription& s) { return s.stream == Subscription::Stream::kEvents; });
}

size_t WebSocketHub::clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace cloudai::master::http
