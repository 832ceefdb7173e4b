// WebSocketHub: the fan-out of telemetry and events to the master's WebSocket clients
// (docs/http.md, "WebSocket"), without any network code.
//
// Each client is a Subscriber with a Subscription: the telemetry stream of every worker,
// the telemetry of one worker (selective routing by worker id), or the event stream.
// Publishing offers the message to every matching subscriber; Offer() never blocks (the
// subscriber keeps a bounded queue of its own). A subscriber whose queue is full is
// dropped at once: removed from the hub and told to close ("too slow"), so a slow client
// never delays the others or the publisher.
//
// Messages are shared, immutable strings: one copy of each, whatever the number of
// subscribers. Several heartbeats published together reach each subscriber in one
// OfferAll() call, which a network subscriber turns into one write.
//
// Thread safety: every method may be called from any thread. Offer(), OfferAll() and
// Drop() are called with the hub's lock held: they must be quick and must not call into
// the hub.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cloudai::master::http {

using Message = std::shared_ptr<const std::string>;

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Queues a message for sending; false when the queue is full.
  virtual bool Offer(Message message) = 0;
  // Queues several, in order; false when the queue cannot take them all (then none or
  // some were taken: the subscriber is dropped either way).
  virtual bool OfferAll(const std::vector<Message>& messages) {
    for (const Message& message : messages) {
      if (!Offer(message)) return false;
    }
    return true;
  }
  // Closes the connection with policy-violation code 1008 and `reason`.
  virtual void Drop(std::string_view reason) = 0;
};

struct Subscription {
  enum class Stream { kTelemetry, kEvents };
  Stream stream = Stream::kTelemetry;
  std::string worker_id;  // telemetry: empty for every worker
};

class WebSocketHub {
 public:
  // Adds a subscriber; `first` (may be null) is called under the hub's lock and its
  // message offered before any published one (the telemetry snapshot). Returns the id
  // for Remove().
  uint64_t Add(std::shared_ptr<Subscriber> subscriber, Subscription subscription,
               const std::function<std::string()>& first = nullptr);
  void Remove(uint64_t id);

  // A heartbeat: to telemetry subscribers of every worker and of `worker_id`.
  void PublishHeartbeat(const std::string& worker_id, Message message);
  // Several heartbeats (worker id, message), in order, each subscriber getting those it
  // wants in one OfferAll().
  void PublishHeartbeats(const std::vector<std::pair<std::string, Message>>& heartbeats);
  // A worker change: to the same, and to event subscribers.
  void PublishWorker(const std::string& worker_id, Message message);
  // A task event or an allocation change: to event subscribers.
  void PublishEvent(Message message);

  size_t clients() const;
  // Whether any client listens to `stream` now (a cheap check, to skip building
  // messages nobody would receive).
  bool HasSubscribers(Subscription::Stream stream) const;
  // Subscribers dropped for being too slow, since start.
  uint64_t dropped_clients() const { return dropped_.load(); }

 private:
  struct Entry {
    std::shared_ptr<Subscriber> subscriber;
    Subscription subscription;
  };
  // Offers to every entry `wants` accepts; drops the ones that are full.
  void Publish(const Message& message, const std::function<bool(const Subscription&)>& wants);
  // With mu_ held: drops the entry at `it` (too slow); the next entry.
  std::map<uint64_t, Entry>::iterator DropLocked(std::map<uint64_t, Entry>::iterator it);

  void Count(const Subscription& subscription, int delta);  // with mu_ held

  mutable std::mutex mu_;
  std::atomic<int> telemetry_{0};
  std::atomic<int> events_{0};
  std::map<uint64_t, Entry> entries_;  // guarded by mu_
  uint64_t next_id_ = 1;               // guarded by mu_
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace cloudai::master::http
