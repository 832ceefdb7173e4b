#include "common/system_info.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/strings.h"

namespace cloudai {

SystemInfo CollectSystemInfo() {
  SystemInfo info;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) info.hostname = host;
  if (info.hostname.empty()) info.hostname = "localhost";
  struct utsname u;
  if (uname(&u) == 0) info.os = StrCat(u.sysname, " ", u.release, " ", u.machine);
  info.cpu_count = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  info.pid = static_cast<int>(getpid());
  info.uid = static_cast<int>(getuid());
  info.gid = static_cast<int>(getgid());
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (struct ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
      if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) continue;
      char buf[INET_ADDRSTRLEN] = {};
      if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != nullptr) {
        info.ipv4_addresses.emplace_back(buf);
      }
    }
    freeifaddrs(list);
  }
  return info;
}

std::string PreferredAddress(const SystemInfo& info) {
  return info.ipv4_addresses.empty() ? "127.0.0.1" : info.ipv4_addresses.front();
}

}  // namespace cloudai
