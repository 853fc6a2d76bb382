"""The fast response parser gives what botocore's own gives, at the same instants, in UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.parsers import ResponseParserError, ResponseParserFactory
from botocore.utils import parse_timestamp

from dbsnooze.domain import AuthMethod, Credentials
from dbsnooze.providers.aws import parsing
from dbsnooze.providers.aws.session import make_session

START = 1_794_405_600  # 2026-11-11T14:00:00Z
BODY = {
    "MetricDataResults": [
        {
            "Id": f"q{i}",
            "Label": "CPUUtilization Average",
            "Timestamps": [START + 3600 * h for h in range(5)] + [START + 0.5],
            "Values": [1.5, 2, None, 3.25, 0.0, 7.5],
            "StatusCode": "Complete",
        }
        for i in range(3)
    ],
    "Messages": [{"Code": "c", "Value": "v"}],
}


RDS_ANSWER = b"""<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
<DescribeDBInstancesResult><DBInstances><DBInstance>
<DBInstanceIdentifier>app</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>
<InstanceCreateTime>2025-11-30T20:48:05.951265Z</InstanceCreateTime>
<LatestRestorableTime>2026-11-30T21:48:06+01:00</LatestRestorableTime>
</DBInstance></DBInstances></DescribeDBInstancesResult>
<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>"""


def _parse(parser: Any) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("GetMetricData").output_shape
    answer = {"body": json.dumps(BODY).encode(), "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = parser.parse(answer, shape)
    return parsed


def test_the_fast_parser_answers_what_botocore_answers() -> None:
    stock = _parse(ResponseParserFactory().create_parser("json"))
    factory = parsing._ParserFactory()
    factory.set_parser_defaults(timestamp_parser=parsing.utc_timestamp)

    fast = _parse(factory.create_parser("json"))

    assert fast == stock  # aware datetimes compare as instants, whatever their zone
    times = fast["MetricDataResults"][0]["Timestamps"]
    assert times[0] == datetime(2026, 11, 11, 14, tzinfo=UTC)
    assert all(moment.tzinfo is UTC for moment in times)
    assert fast["MetricDataResults"][1]["Values"] == [1.5, 2, None, 3.25, 0.0, 7.5]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-11T14:00:00Z",
        "2026-11-11T14:00:00.951265Z",
        "2026-11-11T14:00:00.9Z",
        "2026-11-11T15:30:00+01:30",
        "2026-03-29T01:59:59.5-07:00",
    ],
)
def test_iso_instants_are_botocores_instants_in_utc(text: str) -> None:
    fast = parsing.utc_timestamp(text)

    assert fast == parse_timestamp(text)
    assert fast.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2026-11-11T14:00:00", "Wed, 11 Nov 2026 14:00:00 GMT", "2026-11-11T14:00:00.1234567Z"]
)
def test_other_text_still_takes_botocores_path(text: str) -> None:
    fast = parsing.utc_timestamp(text)

    assert (fast, fast.tzinfo is None) == (
        parse_timestamp(text),
        parse_timestamp(text).tzinfo is None,
    )


def test_no_such_date_fails_as_botocore_fails() -> None:
    with pytest.raises(ValueError, match="Invalid timestamp"):
        parsing.utc_timestamp("2026-02-30T14:00:00Z")


def test_epoch_numbers_are_utc() -> None:
    assert parsing.utc_timestamp(START) == datetime(2026, 11, 11, 14, tzinfo=UTC)


def test_an_rds_description_parses_as_botocore_parses_it() -> None:
    """RDS speaks XML with ISO 8601 times: the fast factory's query parser gives the same."""
    model = botocore.session.get_session().get_service_model("rds")
    shape = model.operation_model("DescribeDBInstances").output_shape
    answer = {"body": RDS_ANSWER, "headers": {}, "status_code": 200}
    factory = parsing._ParserFactory()
    factory.set_parser_defaults(timestamp_parser=parsing.utc_timestamp)

    fast = factory.create_parser("query").parse(answer, shape)
    stock = ResponseParserFactory().create_parser("query").parse(answer, shape)

    assert fast == stock
    (described,) = fast["DBInstances"]
    assert described["InstanceCreateTime"] == datetime(2025, 11, 30, 20, 48, 5, 951265, tzinfo=UTC)
    assert described["InstanceCreateTime"].tzinfo is UTC


def test_sessions_made_for_accounts_use_the_fast_parser() -> None:
    session = make_session(
        Credentials(AuthMethod.STATIC_KEYS, access_key_id="AKIA0001", secret_access_key="s")
    )

    factory = session._session.get_component("response_parser_factory")

    assert isinstance(factory, parsing._ParserFactory)


def test_another_services_answer_is_a_parser_error_not_a_key_error() -> None:
    """An emulator that cannot place a request answers as S3 would: 200 and other XML."""
    shape = (
        botocore.session.get_session()
        .get_service_model("sts")
        .operation_model("GetCallerIdentity")
        .output_shape
    )
    body = b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets/>'
    answer = {"body": body + b"</ListAllMyBucketsResult>", "headers": {}, "status_code": 200}

    with pytest.raises(ResponseParserError, match="unexpected answer"):
        parsing._ParserFactory().create_parser("query").parse(answer, shape)
