// mcp_fake_server: CloudAI's MCP server over the FakeBackend (fake_backend.h), for
// driving the protocol with real MCP clients without a cluster (tests/mcp/fake.test.mjs).
//
//   mcp_fake_server --stdio         the stdio transport on stdin and stdout
//   mcp_fake_server --http-bridge   HttpEndpoint, one request per line of stdin as JSON
//                                   {"method", "path", "headers": {...}, "body"}, each
//                                   answered by one line on stdout:
//                                   {"status", "content_type", "headers": [[k, v]...],
//                                    "body"} (the test's own HTTP server forwards to it)
#include <iostream>
#include <string>

#include "mcp/fake_backend.h"
#include "mcp/http_endpoint.h"
#include "mcp/schema.h"
#include "mcp/stdio.h"

int main(int argc, char** argv) {
  using cloudai::mcp::Json;
  const std::string mode = argc > 1 ? argv[1] : "";
  cloudai::mcp::FakeBackend backend;
  if (mode == "--stdio") {
    return cloudai::mcp::RunStdio(backend, std::cin, std::cout, std::cerr);
  }
  if (mode != "--http-bridge") {
    std::cerr << "usage: mcp_fake_server --stdio | --http-bridge\n";
    return 2;
  }
  cloudai::mcp::HttpEndpointOptions options;
  options.log = [](const std::string& line) { std::cerr << line << std::endl; };
  cloudai::mcp::HttpEndpoint endpoint(backend, options);
  std::string line;
  while (std::getline(std::cin, line)) {
    const Json in = Json::parse(line, nullptr, false);
    if (!in.is_object()) {
      std::cerr << "mcp_fake_server: not a request object: " << line << "\n";
      continue;
    }
    cloudai::mcp::HttpRequest request;
    request.method = in.value("method", "");
    request.path = in.value("path", "");
    request.body = in.value("body", "");
    if (auto headers = in.find("headers"); headers != in.end() && headers->is_object()) {
      for (auto it = headers->begin(); it != headers->end(); ++it) {
        if (it.value().is_string()) request.headers[it.key()] = it.value().get<std::string>();
      }
    }
    const cloudai::mcp::HttpResponse response = endpoint.Handle(request);
    Json out = Json::object();
    out["status"] = response.status;
    out["content_type"] = response.content_type;
    Json headers = Json::array();
    for (const auto& [k, v] : response.headers) headers.push_back(Json::array({k, v}));
    out["headers"] = std::move(headers);
    out["body"] = response.body;
    std::cout << cloudai::mcp::DumpJson(out) << std::endl;
  }
  return 0;
}
