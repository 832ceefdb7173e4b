#include "master/http/static_files.h"

#include <string>

namespace cloudai::master::http {
namespace {

constexpr char kPlaceholder[] = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CloudAI master</title></head>
<body><h1>CloudAI master</h1>
<p>This build has no dashboard files. The REST API is under <code>/api/v1</code>,
health at <a href="/health">/health</a>, metrics at <a href="/metrics">/metrics</a>.</p>
</body></html>
)";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view ContentTypeOf(std::string_view path) {
  struct Type {
    const char* ext;
    const char* type;
  };
  static const Type kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"}, {".map", "application/json"},
  };
  for (const Type& t : kTypes) {
    if (EndsWith(path, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

std::optional<HttpResponse> ServeStatic(std::string_view path) {
  for (size_t i = 0; i < kWebAssetCount; ++i) {
    if (path != kWebAssets[i].path) continue;
    HttpResponse response;
    response.content_type = std::string(ContentTypeOf(path));
    response.body.assign(reinterpret_cast<const char*>(kWebAssets[i].data), kWebAssets[i].size);
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Cache-Control", "no-cache");
    return response;
  }
  return std::nullopt;
}

HttpResponse ServeIndex() {
  if (std::optional<HttpResponse> index = ServeStatic("index.html")) return *index;
  HttpResponse response;
  response.content_type = "text/html; charset=utf-8";
  response.body = kPlaceholder;
  return response;
}

}  // namespace cloudai::master::http
