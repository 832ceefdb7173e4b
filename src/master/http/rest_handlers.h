// The REST API (`/api/v1/*`, docs/http.md): routes that parse the request (query
// parameters, JSON bodies), check the admin token, call ClusterApi and answer JSON in
// the protobuf JSON form with the HTTP status of the outcome.
//
// Thread safety: the handlers may run on any thread, concurrently; `api` must outlive
// the router.
#pragma once

#include "master/cluster_api.h"
#include "master/http/router.h"

namespace cloudai::master::http {

void AddRestRoutes(Router& router, ClusterApi& api);

// The request's admin token check: Authorization header, or for browsers' WebSockets
// the `token` query parameter.
absl::Status AuthorizeRequest(const ClusterApi& api, const HttpRequest& request);

}  // namespace cloudai::master::http
