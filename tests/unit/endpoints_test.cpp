// Endpoint resolution tables: partitions, FIPS/dual-stack, overrides, queue URLs, S3 addressing.
#include "ctsqs/aws/endpoints.hpp"

#include "catch.hpp"

using namespace ctsqs;

namespace {

EnvLookup no_env() { return environment_from({}); }

}  // namespace

TEST_CASE("regions map to partitions", "[endpoints]") {
  struct Row { const char* region; const char* partition; const char* suffix; };
  for (auto [r, p, s] : {Row{"us-east-1", "aws", "amazonaws.com"},
                         Row{"eu-central-2", "aws", "amazonaws.com"},
                         Row{"ap-southeast-7", "aws", "amazonaws.com"},
                         Row{"cn-north-1", "aws-cn", "amazonaws.com.cn"},
                         Row{"cn-northwest-1", "aws-cn", "amazonaws.com.cn"},
                         Row{"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
                         Row{"us-gov-east-1", "aws-us-gov", "amazonaws.com"},
                         Row{"us-iso-east-1", "aws-iso", "c2s.ic.gov"},
                         Row{"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"},
                         Row{"eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"},
                         Row{"us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"}}) {
    INFO(r);
    CHECK(partition_for_region(r).name == p);
    CHECK(partition_for_region(r).dns_suffix == s);
  }
  CHECK(is_valid_region("us-east-1"));
  CHECK_FALSE(is_valid_region(""));
  CHECK_FALSE(is_valid_region("US-EAST-1"));
  CHECK_FALSE(is_valid_region("us-east-1.evil.com"));
  CHECK_FALSE(is_valid_region("-us"));
}

TEST_CASE("default endpoints per service, FIPS and dual-stack", "[endpoints]") {
  Diagnostics diag;
  struct Row { AwsService svc; const char* region; bool fips; bool ds; const char* host; };
  using S = AwsService;
  for (auto [svc, region, fips, ds, host] : {
           Row{S::sqs, "us-east-1", false, false, "sqs.us-east-1.amazonaws.com"},
           Row{S::sqs, "us-east-1", true, false, "sqs-fips.us-east-1.amazonaws.com"},
           Row{S::sqs, "us-east-1", false, true, "sqs.us-east-1.api.aws"},
           Row{S::sqs, "us-east-2", true, true, "sqs-fips.us-east-2.api.aws"},
           Row{S::sqs, "cn-north-1", false, false, "sqs.cn-north-1.amazonaws.com.cn"},
           Row{S::sqs, "cn-north-1", false, true, "sqs.cn-north-1.api.amazonwebservices.com.cn"},
           Row{S::sqs, "us-gov-west-1", false, false, "sqs.us-gov-west-1.amazonaws.com"},
           Row{S::sqs, "us-gov-west-1", true, false, "sqs.us-gov-west-1.amazonaws.com"},
           Row{S::sqs, "us-iso-east-1", false, false, "sqs.us-iso-east-1.c2s.ic.gov"},
           Row{S::s3, "eu-west-1", false, false, "s3.eu-west-1.amazonaws.com"},
           Row{S::s3, "us-east-1", true, false, "s3-fips.us-east-1.amazonaws.com"},
           Row{S::s3, "eu-west-1", false, true, "s3.dualstack.eu-west-1.amazonaws.com"},
           Row{S::s3, "us-west-2", true, true, "s3-fips.dualstack.us-west-2.amazonaws.com"},
           Row{S::s3, "cn-northwest-1", false, false, "s3.cn-northwest-1.amazonaws.com.cn"},
           Row{S::s3, "us-gov-east-1", true, false, "s3-fips.us-gov-east-1.amazonaws.com"},
           Row{S::sts, "eu-west-3", false, false, "sts.eu-west-3.amazonaws.com"},
           Row{S::sts, "us-east-1", true, false, "sts-fips.us-east-1.amazonaws.com"},
           Row{S::sts, "us-gov-west-1", true, false, "sts.us-gov-west-1.amazonaws.com"},
           Row{S::sts, "cn-north-1", false, false, "sts.cn-north-1.amazonaws.com.cn"},
       }) {
    INFO(service_name(svc) << " " << region << " fips=" << fips << " dualstack=" << ds);
    auto e = default_endpoint(svc, region, fips, ds, diag);
    REQUIRE(e.has_value());
    CHECK(e->host == host);
    CHECK(e->scheme == "https");
    CHECK(e->signing_region == region);
    CHECK(e->signing_name == service_name(svc));
    CHECK_FALSE(e->custom);
  }
  Diagnostics d;
  CHECK_FALSE(default_endpoint(AwsService::sqs, "us-iso-east-1", false, true, d).has_value());
  CHECK(d.message.find("aws-iso") != std::string::npos);
  d.clear();
  CHECK_FALSE(default_endpoint(AwsService::sqs, "Bad Region", false, false, d).has_value());
  CHECK(d.message.find("'Bad Region'") != std::string::npos);
}

TEST_CASE("endpoint overrides the way the AWS SDKs read them", "[endpoints]") {
  Diagnostics diag;
  AwsEndpointConfig cfg;
  auto env = environment_from({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                               {"AWS_ENDPOINT_URL_S3", "http://localhost:9000/"},
                               {"AWS_USE_FIPS_ENDPOINT", "true"}});
  auto sqs = resolve_endpoint(AwsService::sqs, "us-east-1", cfg, env, diag);
  REQUIRE(sqs.has_value());
  CHECK(sqs->url() == "http://127.0.0.1:4566");
  CHECK(sqs->source == "AWS_ENDPOINT_URL");
  CHECK(sqs->custom);
  CHECK(sqs->signing_region == "us-east-1");
  auto s3 = resolve_endpoint(AwsService::s3, "us-east-1", cfg, env, diag);
  REQUIRE(s3.has_value());
  CHECK(s3->url() == "http://localhost:9000");
  CHECK(s3->source == "AWS_ENDPOINT_URL_S3");

  cfg.s3_endpoint = "https://minio.internal:9443/base/";
  s3 = resolve_endpoint(AwsService::s3, "us-east-1", cfg, env, diag);
  REQUIRE(s3.has_value());
  CHECK(s3->host == "minio.internal:9443");
  CHECK(s3->base_path == "/base");
  CHECK(s3->source == "config s3_endpoint");

  // Ignoring configured endpoints brings back the AWS default (with FIPS from the environment).
  auto ignore = environment_from({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                                  {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"},
                                  {"AWS_USE_FIPS_ENDPOINT", "true"}});
  auto sts = resolve_endpoint(AwsService::sts, "us-west-2", AwsEndpointConfig{}, ignore, diag);
  REQUIRE(sts.has_value());
  CHECK(sts->url() == "https://sts-fips.us-west-2.amazonaws.com");

  auto plain = resolve_endpoint(AwsService::sts, "eu-west-1", AwsEndpointConfig{}, no_env(), diag);
  REQUIRE(plain.has_value());
  CHECK(plain->url() == "https://sts.eu-west-1.amazonaws.com");
  CHECK(plain->source == "default");

  struct Bad { const char* url; const char* needle; };
  for (auto [url, needle] : {Bad{"ftp://x", "https:// or http://"}, Bad{"127.0.0.1:4566", "expected http(s)://"},
                             Bad{"http://u:p@h", "user info"}, Bad{"http://h/?a=1", "query"},
                             Bad{"http:///x", "no host"}, Bad{"http://h:0", "port"},
                             Bad{"not a url", "not a URL"}}) {
    AwsEndpointConfig c;
    c.sqs_endpoint = url;
    Diagnostics d;
    INFO(url);
    CHECK_FALSE(resolve_endpoint(AwsService::sqs, "us-east-1", c, no_env(), d).has_value());
    CHECK(d.message.find("config sqs_endpoint") != std::string::npos);
    CHECK(d.message.find(needle) != std::string::npos);
  }
}

TEST_CASE("queue URLs in every real form", "[endpoints]") {
  struct Row { const char* url; const char* account; const char* queue; const char* region;
               const char* endpoint; bool vpce; };
  for (auto [url, acct, queue, region, endpoint, vpce] : {
           Row{"https://sqs.us-east-1.amazonaws.com/123456789012/trail-q", "123456789012", "trail-q",
               "us-east-1", "https://sqs.us-east-1.amazonaws.com", false},
           Row{"https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo", "123456789012", "q.fifo",
               "eu-west-1", "https://sqs.eu-west-1.amazonaws.com", false},
           Row{"https://eu-west-1.queue.amazonaws.com/123456789012/legacy", "123456789012", "legacy",
               "eu-west-1", "https://sqs.eu-west-1.amazonaws.com", false},
           Row{"https://queue.amazonaws.com/123456789012/oldest", "123456789012", "oldest",
               "us-east-1", "https://sqs.us-east-1.amazonaws.com", false},
           Row{"https://vpce-0a1b2c3d4e5f-abcdefgh.sqs.us-west-2.vpce.amazonaws.com/123456789012/q",
               "123456789012", "q", "us-west-2",
               "https://vpce-0a1b2c3d4e5f-abcdefgh.sqs.us-west-2.vpce.amazonaws.com", true},
           Row{"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/cn_q", "123456789012", "cn_q",
               "cn-north-1", "https://sqs.cn-north-1.amazonaws.com.cn", false},
           Row{"https://cn-northwest-1.queue.amazonaws.com.cn/123456789012/q", "123456789012", "q",
               "cn-northwest-1", "https://sqs.cn-northwest-1.amazonaws.com.cn", false},
           Row{"https://sqs.us-gov-west-1.amazonaws.com/123456789012/gov", "123456789012", "gov",
               "us-gov-west-1", "https://sqs.us-gov-west-1.amazonaws.com", false},
           Row{"https://sqs-fips.us-east-2.amazonaws.com/123456789012/f", "123456789012", "f",
               "us-east-2", "https://sqs-fips.us-east-2.amazonaws.com", false},
           Row{"https://sqs.us-east-1.api.aws/123456789012/ds", "123456789012", "ds", "us-east-1",
               "https://sqs.us-east-1.api.aws", false},
           Row{"http://127.0.0.1:4566/000000000000/local", "000000000000", "local", "",
               "http://127.0.0.1:4566", false},
           Row{"http://localhost:9324/queue/elasticmq", "queue", "elasticmq", "",
               "http://localhost:9324", false},
           Row{"http://sqs.eu-west-2.localhost.localstack.cloud:4566/000000000000/ls", "000000000000",
               "ls", "eu-west-2", "http://sqs.eu-west-2.localhost.localstack.cloud:4566", false},
       }) {
    INFO(url);
    Diagnostics d;
    auto q = parse_queue_url(url, d);
    INFO(d.message);
    REQUIRE(q.has_value());
    CHECK(q->url == url);
    CHECK(q->account_id == acct);
    CHECK(q->queue_name == queue);
    CHECK(q->region == region);
    CHECK(q->endpoint.url() == endpoint);
    CHECK(q->endpoint.signing_region == region);
    CHECK(q->endpoint.signing_name == "sqs");
    CHECK(q->vpc_endpoint == vpce);
  }
}

TEST_CASE("bad queue URLs name the URL and what was expected", "[endpoints]") {
  struct Row { const char* url; const char* needle; };
  for (auto [url, needle] : {
           Row{"", "not a URL"},
           Row{"sqs.us-east-1.amazonaws.com/123456789012/q", "not a URL"},
           Row{"http://sqs.us-east-1.amazonaws.com/123456789012/q", "must use https"},
           Row{"https://sqs.us-east-1.amazonaws.com/12345/q", "12 digits"},
           Row{"https://sqs.us-east-1.amazonaws.com/123456789012", "/<account>/<queue>"},
           Row{"https://sqs.us-east-1.amazonaws.com/123456789012/q/", "/<account>/<queue>"},
           Row{"https://sqs.us-east-1.amazonaws.com/123456789012/a/b", "/<account>/<queue>"},
           Row{"https://sqs.us-east-1.amazonaws.com/123456789012/bad%20name", "queue name"},
           Row{"https://sqs.us-east-1.amazonaws.com/123456789012/q?x=1", "query"},
           Row{"https://s3.us-east-1.amazonaws.com/123456789012/q", "unrecognized AWS host"},
           Row{"https://vpce-1.sqs.us-east-1.amazonaws.com/123456789012/q", "VPC endpoint"},
           Row{"https://sqs.us-east-1.amazonaws.com:8443/123456789012/q", "no port"},
           Row{"ftp://h/1/q", "https://"},
       }) {
    INFO(url);
    Diagnostics d;
    CHECK_FALSE(parse_queue_url(url, d).has_value());
    CHECK(d.message.find(std::string("queue URL '") + url + "'") != std::string::npos);
    CHECK(d.message.find(needle) != std::string::npos);
  }
}

TEST_CASE("region: configuration, then queue URL, then environment", "[endpoints]") {
  Diagnostics diag;
  auto q = parse_queue_url("https://sqs.eu-west-1.amazonaws.com/123456789012/q", diag);
  REQUIRE(q.has_value());
  auto env = environment_from({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "ap-south-1"}});
  AwsEndpointConfig cfg;
  CHECK(resolve_region(cfg, &*q, env, diag).value() == "eu-west-1");
  CHECK(resolve_region(cfg, nullptr, env, diag).value() == "us-west-2");
  CHECK(resolve_region(cfg, nullptr, environment_from({{"AWS_DEFAULT_REGION", "ap-south-1"}}), diag).value() ==
        "ap-south-1");
  cfg.region = "ca-central-1";
  CHECK(resolve_region(cfg, &*q, env, diag).value() == "ca-central-1");
  Diagnostics d;
  CHECK_FALSE(resolve_region(AwsEndpointConfig{}, nullptr, no_env(), d).has_value());
  CHECK(d.message.find("AWS_REGION") != std::string::npos);
  d.clear();
  CHECK_FALSE(resolve_region(AwsEndpointConfig{}, nullptr,
                             environment_from({{"AWS_REGION", "us east"}}), d).has_value());
  CHECK(d.message.find("AWS_REGION 'us east'") != std::string::npos);
}

TEST_CASE("SQS endpoint for a queue: overrides win, else the queue URL's", "[endpoints]") {
  Diagnostics diag;
  auto vpce = parse_queue_url("https://vpce-1a-2b.sqs.us-east-1.vpce.amazonaws.com/123456789012/q", diag);
  REQUIRE(vpce.has_value());
  AwsEndpointConfig cfg;
  auto e = resolve_sqs_endpoint(*vpce, "us-east-1", cfg, no_env(), diag);
  REQUIRE(e.has_value());
  CHECK(e->host == "vpce-1a-2b.sqs.us-east-1.vpce.amazonaws.com");
  cfg.use_fips = true;  // a VPC endpoint stays a VPC endpoint
  CHECK(resolve_sqs_endpoint(*vpce, "us-east-1", cfg, no_env(), diag)->host == e->host);

  auto std_q = parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/q", diag);
  REQUIRE(std_q.has_value());
  CHECK(resolve_sqs_endpoint(*std_q, "us-east-1", cfg, no_env(), diag)->host ==
        "sqs-fips.us-east-1.amazonaws.com");
  auto over = resolve_sqs_endpoint(*std_q, "us-east-1", AwsEndpointConfig{},
                                   environment_from({{"AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1234"}}), diag);
  REQUIRE(over.has_value());
  CHECK(over->url() == "http://127.0.0.1:1234");

  auto local = parse_queue_url("http://127.0.0.1:4566/000000000000/q", diag);
  REQUIRE(local.has_value());
  auto l = resolve_sqs_endpoint(*local, "us-east-1", AwsEndpointConfig{}, no_env(), diag);
  REQUIRE(l.has_value());
  CHECK(l->url() == "http://127.0.0.1:4566");
  CHECK(l->signing_region == "us-east-1");
}

TEST_CASE("S3 virtual-hosted and path-style addressing", "[endpoints]") {
  Diagnostics diag;
  auto aws = default_endpoint(AwsService::s3, "us-east-1", false, false, diag).value();
  auto t = s3_object_target(aws, "my-trail-bucket", "AWSLogs/123/CloudTrail/a b+c.json.gz", false);
  CHECK(t.virtual_hosted);
  CHECK(t.host == "my-trail-bucket.s3.us-east-1.amazonaws.com");
  CHECK(t.path == "/AWSLogs/123/CloudTrail/a%20b%2Bc.json.gz");

  auto forced = s3_object_target(aws, "my-trail-bucket", "k", true);
  CHECK_FALSE(forced.virtual_hosted);
  CHECK(forced.host == "s3.us-east-1.amazonaws.com");
  CHECK(forced.path == "/my-trail-bucket/k");

  auto dotted = s3_object_target(aws, "my.dotted.bucket", "k", false);
  CHECK_FALSE(dotted.virtual_hosted);
  CHECK(dotted.path == "/my.dotted.bucket/k");

  auto local = parse_endpoint_url("http://127.0.0.1:4568", AwsService::s3, "us-east-1", "test", diag).value();
  auto l = s3_object_target(local, "bucket", "a/\xc3\xa9.gz", false);
  CHECK_FALSE(l.virtual_hosted);
  CHECK(l.scheme == "http");
  CHECK(l.host == "127.0.0.1:4568");
  CHECK(l.path == "/bucket/a/%C3%A9.gz");

  auto prefixed = parse_endpoint_url("https://gw.example/s3", AwsService::s3, "us-east-1", "t", diag).value();
  auto p = s3_object_target(prefixed, "bucket", "k", false);
  CHECK(p.host == "bucket.gw.example");
  CHECK(p.path == "/s3/k");

  struct Row { const char* bucket; bool https; bool ok; };
  for (auto [b, https, ok] : {Row{"abc", true, true}, Row{"ab", true, false}, Row{"Abc", true, false},
                              Row{"a_b", true, false}, Row{"-ab", true, false}, Row{"ab-", true, false},
                              Row{"a.b.c", true, false}, Row{"a.b.c", false, true},
                              Row{"a..b", false, false}, Row{"192.168.1.1", false, false},
                              Row{"a-.b", false, false}}) {
    INFO(b << " https=" << https);
    CHECK(is_virtual_hostable_bucket(b, https) == ok);
  }
}
