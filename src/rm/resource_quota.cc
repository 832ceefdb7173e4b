#include "cloudai/rm/resource_quota.h"

#include <utility>

namespace cloudai::rm {

Status ResourceQuota::SetQuota(const std::string& agent, const std::string& type, int64_t limit) {
  if (limit < 0) {
    return Status(Code::kInvalidArgument, "quota of agent '" + agent + "' for '" + type +
                                              "' must be 0 or more, got " + std::to_string(limit));
  }
  std::lock_guard<std::mutex> lock(mu_);
  agents_[agent][type].limit = limit;
  return Status::Ok();
}

void ResourceQuota::RemoveQuota(const std::string& agent, const std::string& type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Entry* entry = Find(agent, type)) {
    entry->limit.reset();
    Prune(agent);
  }
}

std::optional<int64_t> ResourceQuota::GetQuota(const std::string& agent,
                                               const std::string& type) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* entry = Find(agent, type);
  return entry != nullptr ? entry->limit : std::nullopt;
}

const ResourceQuota::Entry* ResourceQuota::Find(const std::string& agent,
                                                const std::string& type) const {
  auto agent_it = agents_.find(agent);
  if (agent_it == agents_.end()) return nullptr;
  auto type_it = agent_it->second.find(type);
  return type_it == agent_it->second.end() ? nullptr : &type_it->second;
}

ResourceQuota::Entry* ResourceQuota::Find(const std::string& agent, const std::string& type) {
  return const_cast<Entry*>(std::as_const(*this).Find(agent, type));
}

void ResourceQuota::Prune(const std::string& agent) {
  auto agent_it = agents_.find(agent);
  if (agent_it == agents_.end()) return;
  std::erase_if(agent_it->second, [](const auto& item) {
    const Entry& entry = item.second;
    return !entry.limit && entry.held == 0 && entry.reserved == 0;
  });
  if (agent_it->second.empty()) agents_.erase(agent_it);
}

Status ResourceQuota::CheckLocked(const std::string& agent, const std::string& type,
                                  int64_t amount) const {
  if (amount <= 0) {
    return Status(Code::kInvalidArgument,
                  "amount of '" + type + "' must be positive, got " + std::to_string(amount));
  }
  const Entry* entry = Find(agent, type);
  if (entry == nullptr || !entry->limit) return Status::Ok();
  const int64_t used = entry->held + entry->reserved;
  if (amount > *entry->limit - used) {
    return Status(Code::kQuotaExceeded, "agent '" + agent + "' asks for " + std::to_string(amount) +
                                            " '" + type + "' on top of " + std::to_string(used) +
                                            " but its quota is " + std::to_string(*entry->limit) +
                                            "; release some first or raise the quota");
  }
  return Status::Ok();
}

Status ResourceQuota::Check(const std::string& agent, const std::string& type,
                            int64_t amount) const {
  std::lock_guard<std::mutex> lock(mu_);
  return CheckLocked(agent, type, amount);
}

Status ResourceQuota::Reserve(const std::string& agent, const ResourceAmounts& amounts) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [type, amount] : amounts) {
    Status allowed = CheckLocked(agent, type, amount);
    if (!allowed.ok()) return allowed;
  }
  for (const auto& [type, amount] : amounts) agents_[agent][type].reserved += amount;
  return Status::Ok();
}

void ResourceQuota::Commit(const std::string& agent, const ResourceAmounts& amounts) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [type, amount] : amounts) {
    Entry& entry = agents_[agent][type];
    entry.reserved -= amount;
    entry.held += amount;
  }
}

void ResourceQuota::Unreserve(const std::string& agent, const ResourceAmounts& amounts) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [type, amount] : amounts) agents_[agent][type].reserved -= amount;
  Prune(agent);
}

Status ResourceQuota::Release(const std::string& agent, const ResourceAmounts& amounts) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [type, amount] : amounts) {
    const Entry* entry = Find(agent, type);
    const int64_t held = entry != nullptr ? entry->held : 0;
    if (amount <= 0) {
      return Status(Code::kInvalidArgument,
                    "amount of '" + type + "' must be positive, got " + std::to_string(amount));
    }
    if (amount > held) {
      return Status(Code::kNotAcquired, "agent '" + agent + "' releases " + std::to_string(amount) +
                                            " '" + type + "' but holds " + std::to_string(held) +
                                            "; release only what it acquired");
    }
  }
  for (const auto& [type, amount] : amounts) Find(agent, type)->held -= amount;
  Prune(agent);
  return Status::Ok();
}

int64_t ResourceQuota::Usage(const std::string& agent, const std::string& type) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* entry = Find(agent, type);
  return entry != nullptr ? entry->held : 0;
}

ResourceAmounts ResourceQuota::AgentUsage(const std::string& agent) const {
  std::lock_guard<std::mutex> lock(mu_);
  ResourceAmounts usage;
  auto agent_it = agents_.find(agent);
  if (agent_it == agents_.end()) return usage;
  for (const auto& [type, entry] : agent_it->second) {
    if (entry.held > 0) usage[type] = entry.held;
  }
  return usage;
}

}  // namespace cloudai::rm
