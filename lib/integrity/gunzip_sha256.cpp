// Streaming gunzip + SHA-256 (zlib, OpenSSL EVP) in bounded memory.
#include "ctsqs/integrity/gunzip_sha256.hpp"

#include <openssl/evp.h>
#include <zlib.h>

#include <array>

namespace ctsqs::integrity {

struct Sha256Stream::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Impl() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {}
Sha256Stream::~Sha256Stream() = default;
Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;

void Sha256Stream::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
}
void Sha256Stream::update(std::string_view bytes) { EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()); }

std::string Sha256Stream::finish_hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &n);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

struct GunzipSha256::Impl {
  z_stream zs{};
  bool init = false;
  bool in_member = false;   // inside a gzip member (its end not seen yet)
  bool any_member = false;
  std::size_t keep_max;
  std::string kept;
  std::uint64_t size = 0;
  Sha256Stream sha;
  std::array<unsigned char, 64 * 1024> out{};
  explicit Impl(std::size_t k) : keep_max(k) {
    init = inflateInit2(&zs, 15 + 16) == Z_OK;
  }
  ~Impl() {
    if (init) inflateEnd(&zs);
  }
};

GunzipSha256::GunzipSha256(std::size_t keep_max) : impl_(std::make_unique<Impl>(keep_max)) {}
GunzipSha256::~GunzipSha256() = default;

result<void> GunzipSha256::update(std::span<const std::byte> in, Diagnostics& diag) {
  auto& m = *impl_;
  if (!m.init) {
    diag.message = "zlib could not be initialised";
    return make_error_code(client_errc::invalid_argument);
  }
  m.zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  m.zs.avail_in = static_cast<uInt>(in.size());
  bool pending = false;  // the last inflate filled the output buffer: more may be waiting in zlib
  while (m.zs.avail_in > 0 || pending) {
    if (!m.in_member) {
      // A new member starts (the first, or one after another: concatenated gzip).
      if (m.any_member) inflateReset(&m.zs);
      m.in_member = true;
      m.any_member = true;
    }
    m.zs.next_out = m.out.data();
    m.zs.avail_out = static_cast<uInt>(m.out.size());
    const int rc = inflate(&m.zs, Z_NO_FLUSH);
    const std::size_t produced = m.out.size() - m.zs.avail_out;
    pending = m.zs.avail_out == 0;
    if (produced > 0) {
      const std::string_view chunk(reinterpret_cast<const char*>(m.out.data()), produced);
      m.sha.update(chunk);
      m.size += produced;
      if (m.keep_max > 0) {
        if (m.kept.size() + produced > m.keep_max) {
          diag.message = "more than " + std::to_string(m.keep_max) + " uncompressed bytes";
          return make_error_code(client_errc::limit_exceeded);
        }
        m.kept.append(chunk);
      }
    }
    if (rc == Z_STREAM_END) {
      m.in_member = false;
      pending = false;
      continue;
    }
    if (rc == Z_BUF_ERROR && produced == 0 && m.zs.avail_in == 0) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      diag.message = std::string("not gzip or corrupt (") + (m.zs.msg ? m.zs.msg : "zlib error " + std::to_string(rc)) + ")";
      return make_error_code(client_errc::invalid_argument);
    }
  }
  return {};
}

result<std::string> GunzipSha256::finish(Diagnostics& diag) {
  auto& m = *impl_;
  if (!m.any_member) {
    diag.message = "empty object (no gzip data)";
    return make_error_code(client_errc::invalid_argument);
  }
  if (m.in_member) {
    diag.message = "the gzip data ends early (truncated)";
    return make_error_code(client_errc::invalid_argument);
  }
  return m.sha.finish_hex();
}

const std::string& GunzipSha256::kept() const noexcept { return impl_->kept; }
std::uint64_t GunzipSha256::uncompressed_size() const noexcept { return impl_->size; }

}  // namespace ctsqs::integrity
