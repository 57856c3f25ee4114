// The S3 XML reader: ListObjectsV2 pages and <Error> bodies as AWS and s3rver write them.
#include <gtest/gtest.h>

#include <stdexcept>

#include "adapters/s3/s3_xml.hpp"

namespace orderflow::testing {
namespace {

namespace s3xml = adapters::s3xml;

TEST(S3Xml, ReadsAListObjectsV2Page) {
  const auto result = s3xml::parse_list_objects_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix>a/</Prefix>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <KeyCount>2</KeyCount>
  <MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>a/Tom &amp; Jerry &lt;1&gt; &quot;q&quot; &apos;s&apos;.txt</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
    <Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents><Key>a/caf&#233; &#x2603;</Key><LastModified>2009-10-12T17:50:31Z</LastModified><Size>0</Size><Owner><ID>x</ID><DisplayName/></Owner></Contents>
</ListBucketResult>)");
  ASSERT_EQ(result.objects.size(), 2u);
  EXPECT_EQ(result.objects[0].key, "a/Tom & Jerry <1> \"q\" 's'.txt");
  EXPECT_EQ(result.objects[0].size, 434234u);
  EXPECT_EQ(domain::format_rfc3339(result.objects[0].modified), "2009-10-12T17:50:30.000000Z");
  EXPECT_EQ(result.objects[1].key, "a/caf\xc3\xa9 \xe2\x98\x83");
  EXPECT_EQ(result.objects[1].size, 0u);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, ReadsTheLastPageAndAnEmptyOne) {
  const auto last = s3xml::parse_list_objects_v2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
      "<LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>");
  EXPECT_FALSE(last.truncated);
  EXPECT_TRUE(last.next_token.empty());
  ASSERT_EQ(last.objects.size(), 1u);

  const auto empty = s3xml::parse_list_objects_v2(
      "<ListBucketResult><Name>b</Name><Prefix/><KeyCount>0</KeyCount>"
      "<IsTruncated>false</IsTruncated></ListBucketResult>");
  EXPECT_TRUE(empty.objects.empty());
}

TEST(S3Xml, KeysOnlyCountInsideContents) {
  // <CommonPrefixes> and <Owner> hold elements that look like ours; they are not objects.
  const auto result = s3xml::parse_list_objects_v2(
      "<ListBucketResult><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>"
      "<Contents><Key><![CDATA[x<y]]></Key><Size>3</Size><Owner><Key>no</Key></Owner>"
      "</Contents><!-- a comment <Key>no</Key> --></ListBucketResult>");
  ASSERT_EQ(result.objects.size(), 1u);
  EXPECT_EQ(result.objects[0].key, "x<y");
  EXPECT_EQ(result.objects[0].size, 3u);
}

TEST(S3Xml, RejectsWhatItCannotRead) {
  EXPECT_THROW(s3xml::parse_list_objects_v2(""), std::runtime_error);
  EXPECT_THROW(s3xml::parse_list_objects_v2("<Error><Code>NoSuchBucket</Code></Error>"),
               std::runtime_error);
  EXPECT_THROW(s3xml::parse_list_objects_v2("<ListBucketResult><Contents><Key>k</Key>"),
               std::runtime_error);
  EXPECT_THROW(s3xml::parse_list_objects_v2("<ListBucketResult><Key>k</Size></ListBucketResult>"),
               std::runtime_error);
  EXPECT_THROW(s3xml::parse_list_objects_v2(
                   "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
                   "</ListBucketResult>"),
               std::runtime_error);
  EXPECT_THROW(s3xml::parse_list_objects_v2(
                   "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"),
               std::runtime_error);
  EXPECT_THROW(s3xml::parse_list_objects_v2(
                   "<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>"),
               std::runtime_error);
}

TEST(S3Xml, Unescape) {
  EXPECT_EQ(s3xml::unescape("plain"), "plain");
  EXPECT_EQ(s3xml::unescape("&amp;amp;"), "&amp;");
  EXPECT_EQ(s3xml::unescape("&#65;&#x42;&#X43;"), "ABC");
  EXPECT_EQ(s3xml::unescape("&#x1F600;"), "\xf0\x9f\x98\x80");
  EXPECT_THROW(s3xml::unescape("a & b"), std::runtime_error);
  EXPECT_THROW(s3xml::unescape("&#0;"), std::runtime_error);
  EXPECT_THROW(s3xml::unescape("&#xD800;"), std::runtime_error);
  EXPECT_THROW(s3xml::unescape("&#x;"), std::runtime_error);
}

TEST(S3Xml, ReadsErrorBodies) {
  const auto e = s3xml::parse_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>a</Key></Error>");
  EXPECT_EQ(e.code, "NoSuchKey");
  EXPECT_EQ(e.message, "The specified key does not exist.");
  EXPECT_TRUE(s3xml::parse_error("").code.empty());
  EXPECT_TRUE(s3xml::parse_error("<html><body>Bad Gateway</body></html>").code.empty());
  EXPECT_TRUE(s3xml::parse_error("<Error><Code>broken").code.empty());
}

}  // namespace
}  // namespace orderflow::testing
