// SystemInfo: facts about this machine shown in banners and used to build default
// addresses (seed 001's CollectSystemInfo / GetMasterAddress).
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <vector>

namespace cloudai {

struct SystemInfo {
  std::string hostname;
  std::string os;    // "Linux 6.1.0 x86_64"
  int cpu_count = 0;
  int pid = 0;
  int uid = 0;
  int gid = 0;
  std::vector<std::string> ipv4_addresses;  // non-loopback, in interface order
};

SystemInfo CollectSystemInfo();

// The address other machines should use to reach this one: the first non-loopback IPv4
// address, else "127.0.0.1".
std::string PreferredAddress(const SystemInfo& info);

}  // namespace cloudai
