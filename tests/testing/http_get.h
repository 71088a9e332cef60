// HttpGet: a plain HTTP/1.1 GET on 127.0.0.1 for tests (metrics scrapes,
// Prometheus API queries). Header-only; thread-safe.
#ifndef PROXFLOW_TESTS_TESTING_HTTP_GET_H_
#define PROXFLOW_TESTS_TESTING_HTTP_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace proxflow::testing {

// The whole response (status line, headers, body) to `request_line` (e.g.
// "GET /metrics HTTP/1.1") on 127.0.0.1:port; empty when it cannot connect.
inline std::string HttpRequest(int port, const std::string& request_line) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  std::string response;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request =
        request_line + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buffer[4096];
    ssize_t n;
    while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0)
      response.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return response;
}

// The body of GET `path`, or empty.
inline std::string HttpGetBody(int port, const std::string& path) {
  const std::string response = HttpRequest(port, "GET " + path + " HTTP/1.1");
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

}  // namespace proxflow::testing

#endif  // PROXFLOW_TESTS_TESTING_HTTP_GET_H_
