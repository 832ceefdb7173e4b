#include "cloudai/rm/resource_manager.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "admission.h"
#include "cloudai/rm/deadlock_detector.h"
#include "cloudai/rm/resource_quota.h"

namespace cloudai::rm {

ResourceManagerConfig DefaultConfig() {
  ResourceManagerConfig config;
  const std::pair<const char*, int64_t> types[] = {
      {kCpu, 100}, {kMemory, int64_t{1} << 30}, {kFileHandles, 1000}, {kNetwork, 100}};
  for (const auto& [name, capacity] : types) {
    ResourceTypeConfig type;
    type.name = name;
    type.capacity = capacity;
    type.rate_limit = 50;
    type.min_capacity = std::max<int64_t>(1, capacity / 10);
    type.max_capacity = capacity * 2;
    config.types.push_back(type);
  }
  return config;
}

// The manager's state. It is the engine's hooks (quotas, deadlock detection) and the load
// monitor's target; both run their calls under their own locks and only ever call down
// into the quota ledger and the detector, which take their own locks last.
struct ResourceManager::Impl final : internal::AdmissionHooks, LoadTarget {
  explicit Impl(const ResourceManagerConfig& config)
      : detector(config.enable_deadlock_detection),
        engine(config.clock, internal::Charge::kHold, this) {}

  Status AddType(const ResourceTypeConfig& type);

  // internal::AdmissionHooks
  Status Admit(const std::string& agent, const ResourceAmounts& amounts) override {
    return quota.Reserve(agent, amounts);
  }
  Status BeforeWait(const std::string& agent, const ResourceAmounts& amounts,
                    int priority) override;
  void Granted(const std::string& agent, const ResourceAmounts& amounts, bool waited) override;
  void Refused(const std::string& agent, const ResourceAmounts& amounts, bool waited) override;
  Status Release(const std::string& agent, const ResourceAmounts& amounts) override;

  // LoadTarget
  std::vector<Sample> SampleLoad() override;
  void ScaleCapacity(const std::string& type, int64_t capacity) override {
    engine.SetCapacity(type, capacity, /*keep_demand=*/true);
  }

  ResourceQuota quota;
  DeadlockDetector detector;
  internal::Admission engine;
  std::mutex bounds_mu;
  std::map<std::string, std::pair<int64_t, int64_t>> bounds;  // type -> {min, max}
  std::unique_ptr<LoadMonitor> monitor;  // last: stopped before the rest goes away
};

Status ResourceManager::Impl::AddType(const ResourceTypeConfig& type) {
  const int64_t min = type.min_capacity == 0 ? type.capacity : type.min_capacity;
  const int64_t max = type.max_capacity == 0 ? type.capacity : type.max_capacity;
  if (type.capacity > 0 && !(1 <= min && min <= type.capacity && type.capacity <= max)) {
    return Status(Code::kInvalidCapacity,
                  "scaling bounds of '" + type.name + "' need 1 <= min_capacity (" +
                      std::to_string(min) + ") <= capacity (" + std::to_string(type.capacity) +
                      ") <= max_capacity (" + std::to_string(max) + "); 0 means the capacity");
  }
  internal::TypeSpec spec;
  spec.capacity = type.capacity;
  spec.rate_limit = type.rate_limit;
  spec.burst = type.burst;
  std::lock_guard<std::mutex> lock(bounds_mu);
  Status added = engine.AddType(type.name, spec);
  if (added.ok()) bounds[type.name] = {min, max};
  return added;
}

Status ResourceManager::Impl::BeforeWait(const std::string& agent, const ResourceAmounts& amounts,
                                         int priority) {
  for (auto it = amounts.begin(); it != amounts.end(); ++it) {
    Status may_wait = detector.RecordWait(agent, it->first, priority);
    if (may_wait.ok()) continue;
    for (auto undo = amounts.begin(); undo != it; ++undo) detector.ClearWait(agent, undo->first);
    return may_wait;
  }
  return Status::Ok();
}

void ResourceManager::Impl::Granted(const std::string& agent, const ResourceAmounts& amounts,
                                    bool waited) {
  quota.Commit(agent, amounts);
  for (const auto& [type, amount] : amounts) {
    if (waited) detector.ClearWait(agent, type);
    detector.RecordAcquire(agent, type);
  }
}

void ResourceManager::Impl::Refused(const std::string& agent, const ResourceAmounts& amounts,
                                    bool waited) {
  quota.Unreserve(agent, amounts);
  if (!waited) return;
  for (const auto& [type, amount] : amounts) detector.ClearWait(agent, type);
}

Status ResourceManager::Impl::Release(const std::string& agent, const ResourceAmounts& amounts) {
  Status released = quota.Release(agent, amounts);
  if (!released.ok()) return released;
  for (const auto& [type, amount] : amounts) {
    if (quota.Usage(agent, type) == 0) detector.RecordRelease(agent, type);
  }
  return Status::Ok();
}

std::vector<LoadTarget::Sample> ResourceManager::Impl::SampleLoad() {
  std::vector<std::pair<std::string, PoolStats>> all = engine.AllStats();
  std::lock_guard<std::mutex> lock(bounds_mu);
  std::vector<Sample> samples;
  for (const auto& [type, stats] : all) {
    auto it = bounds.find(type);
    if (it == bounds.end()) continue;
    samples.push_back(
        Sample{type, stats.capacity, stats.current, it->second.first, it->second.second});
  }
  return samples;
}

Result<std::unique_ptr<ResourceManager>> ResourceManager::Create(ResourceManagerConfig config) {
  if (!config.clock) config.clock = Clock::Real();
  if (config.monitor_interval < Clock::Duration::zero()) {
    return Status(Code::kInvalidArgument, "monitor_interval must be 0 (no thread) or positive");
  }
  auto impl = std::make_unique<Impl>(config);
  for (const ResourceTypeConfig& type : config.types) {
    Status added = impl->AddType(type);
    if (!added.ok()) return added;
  }
  LoadMonitorOptions monitor_options;
  monitor_options.scale_up_threshold = config.scale_up_threshold;
  monitor_options.scale_down_threshold = config.scale_down_threshold;
  monitor_options.scale_up_factor = config.scale_up_factor;
  monitor_options.scale_down_factor = config.scale_down_factor;
  monitor_options.auto_scale = config.enable_auto_scaling;
  monitor_options.clock = config.clock;
  if (config.monitor_interval > Clock::Duration::zero()) {
    monitor_options.interval = config.monitor_interval;
  }
  Result<std::unique_ptr<LoadMonitor>> monitor = LoadMonitor::Create(*impl, monitor_options);
  if (!monitor.ok()) return monitor.status();
  impl->monitor = std::move(*monitor);
  if (config.monitor_interval > Clock::Duration::zero()) impl->monitor->Start();
  return std::unique_ptr<ResourceManager>(new ResourceManager(std::move(impl)));
}

ResourceManager::ResourceManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ResourceManager::~ResourceManager() { Stop(); }

Status ResourceManager::AddResourceType(const ResourceTypeConfig& type) {
  return impl_->AddType(type);
}

std::vector<std::string> ResourceManager::ResourceTypes() const {
  return impl_->engine.TypeNames();
}

namespace {

Status CheckAgent(const std::string& agent) {
  if (!agent.empty()) return Status::Ok();
  return Status(Code::kInvalidArgument, "agent name is empty; name who holds the resources");
}

}  // namespace

Status ResourceManager::Acquire(const std::string& agent, const ResourceAmounts& amounts,
                                const AcquireOptions& options) {
  Status valid = CheckAgent(agent);
  if (!valid.ok()) return valid;
  return impl_->engine.Acquire(agent, amounts, options);
}

Status ResourceManager::Acquire(const std::string& agent, const std::string& type, int64_t amount,
                                const AcquireOptions& options) {
  return Acquire(agent, ResourceAmounts{{type, amount}}, options);
}

Status ResourceManager::TryAcquire(const std::string& agent, const ResourceAmounts& amounts,
                                   int priority) {
  Status valid = CheckAgent(agent);
  if (!valid.ok()) return valid;
  return impl_->engine.TryAcquire(agent, amounts, priority);
}

Status ResourceManager::TryAcquire(const std::string& agent, const std::string& type,
                                   int64_t amount, int priority) {
  return TryAcquire(agent, ResourceAmounts{{type, amount}}, priority);
}

Result<Lease> ResourceManager::AcquireLease(const std::string& agent,
                                            const ResourceAmounts& amounts,
                                            const AcquireOptions& options) {
  Status acquired = Acquire(agent, amounts, options);
  if (!acquired.ok()) return acquired;
  return Lease(&impl_->engine, agent, amounts);
}

Result<Lease> ResourceManager::TryAcquireLease(const std::string& agent,
                                               const ResourceAmounts& amounts, int priority) {
  Status acquired = TryAcquire(agent, amounts, priority);
  if (!acquired.ok()) return acquired;
  return Lease(&impl_->engine, agent, amounts);
}

Status ResourceManager::Release(const std::string& agent, const ResourceAmounts& amounts) {
  Status valid = CheckAgent(agent);
  if (!valid.ok()) return valid;
  return impl_->engine.Release(agent, amounts);
}

Status ResourceManager::Release(const std::string& agent, const std::string& type, int64_t amount) {
  return Release(agent, ResourceAmounts{{type, amount}});
}

Status ResourceManager::SetQuota(const std::string& agent, const std::string& type, int64_t limit) {
  Status valid = CheckAgent(agent);
  if (!valid.ok()) return valid;
  if (Result<PoolStats> known = impl_->engine.Stats(type); !known.ok()) return known.status();
  return impl_->quota.SetQuota(agent, type, limit);
}

Status ResourceManager::RemoveQuota(const std::string& agent, const std::string& type) {
  if (Result<PoolStats> known = impl_->engine.Stats(type); !known.ok()) return known.status();
  impl_->quota.RemoveQuota(agent, type);
  return Status::Ok();
}

int64_t ResourceManager::GetUsage(const std::string& agent, const std::string& type) const {
  return impl_->quota.Usage(agent, type);
}

ResourceAmounts ResourceManager::GetAgentUsage(const std::string& agent) const {
  return impl_->quota.AgentUsage(agent);
}

Result<double> ResourceManager::GetPoolUsage(const std::string& type) const {
  Result<PoolStats> stats = impl_->engine.Stats(type);
  if (!stats.ok()) return stats.status();
  return stats->usage_percent;
}

Result<PoolStats> ResourceManager::GetPoolStats(const std::string& type) const {
  return impl_->engine.Stats(type);
}

Status ResourceManager::SetPoolCapacity(const std::string& type, int64_t capacity) {
  return impl_->engine.SetCapacity(type, capacity);
}

void ResourceManager::RegisterLoadCallback(LoadCallback callback) {
  impl_->monitor->RegisterCallback(std::move(callback));
}

void ResourceManager::CheckLoadNow() { impl_->monitor->CheckNow(); }

void ResourceManager::Stop() {
  impl_->engine.Stop();
  impl_->monitor->Stop();
}

}  // namespace cloudai::rm
