// StaticFiles: the dashboard's files (every file under web/), built into the master
// binary by cmake/EmbedWebAssets.cmake, so the dashboard works offline and needs no
// files beside the binary. `/` serves index.html (a placeholder page when web/ has
// none); `/static/<path>` serves web/<path>.
//
// Thread safety: immutable data; free functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "master/http/router.h"

namespace cloudai::master::http {

struct EmbeddedFile {
  const char* path;  // relative to web/, '/'-separated
  const unsigned char* data;
  size_t size;
};

// The generated table (web_assets.cc).
extern const EmbeddedFile kWebAssets[];
extern const size_t kWebAssetCount;

// The file's response (with its content type), nullopt when there is no such file.
std::optional<HttpResponse> ServeStatic(std::string_view path);
// index.html, or a placeholder page when the build had none.
HttpResponse ServeIndex();
std::string_view ContentTypeOf(std::string_view path);

}  // namespace cloudai::master::http
