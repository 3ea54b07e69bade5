#!/usr/bin/env python3
"""A keep-alive HTTP/1.1 server for the streamed-body tests of https_client_test.cpp.

usage: body_server.py PORT FILE [CERT KEY]
GET /whole     -> FILE with Content-Length, connection kept open (several requests per connection)
GET /cut       -> Content-Length of FILE, then half of it, then the connection is closed
GET /chunked   -> FILE in chunked transfer encoding (no Content-Length)
GET /stall     -> Content-Length of FILE, then a tenth of it, then nothing for 60 s
Each connection's requests are counted in the response header X-Request-On-Connection.
With CERT and KEY the server speaks TLS.
"""
import http.server
import socketserver
import ssl
import sys
import time

port, path = int(sys.argv[1]), sys.argv[2]
with open(path, "rb") as f:
    data = f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.count = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.count += 1
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Request-On-Connection", str(self.count))
            self.end_headers()
            for i in range(0, len(data), 100000):
                piece = data[i:i + 100000]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-On-Connection", str(self.count))
        self.end_headers()
        if self.path == "/stall":
            self.wfile.write(data[: len(data) // 10])
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
            return
        if self.path == "/cut":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", port), Handler)
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
