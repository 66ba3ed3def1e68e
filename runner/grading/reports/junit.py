"""JUnit XML for CI: a ``<testsuite>`` per submission, a ``<testcase>`` per check."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .result import RUN_ENDED, SubmissionResult, cells_ran, clean, lost_reason


def junit_xml(results: Sequence[SubmissionResult]) -> str:
    """JUnit XML: a ``<testsuite>`` per submission, a ``<testcase>`` per check.

    Each suite starts with a ``notebook execution`` testcase (classname ``LESSON``),
    which holds an ``<error>`` when the run did not end ``graded``; each check's testcase
    (classname ``LESSON.STEP``, name ``KIND (line N)``) holds a ``<failure>`` when the
    check failed. Text is made XML-safe: control characters a parser would reject are
    replaced, terminal escape sequences removed.
    """
    root = ET.Element("testsuites", name="dockdojo grade")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for result in results:
        suite = _suite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        seconds += float(suite.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    out = io.StringIO()
    ET.ElementTree(root).write(out, encoding="unicode", xml_declaration=True)
    out.write("\n")
    return out.getvalue()


def _suite(result: SubmissionResult) -> ET.Element:
    report = result.report
    suite = ET.Element("testsuite", name=_xml(f"{result.learner}/{result.submission}"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("learner", result.learner),
        ("submission", result.submission),
        ("lesson", result.lesson),
        ("status", result.status),
        ("points", str(result.points)),
        ("max_points", str(result.max_points)),
        ("cells_run", str(result.cells_run)),
        ("cells_total", str(result.cells_total)),
        *((f"parameter:{k}", str(v)) for k, v in result.parameters.items()),
    ):
        ET.SubElement(properties, "property", name=_xml(name), value=_xml(value))
    failures = errors = 0
    run = ET.SubElement(
        suite,
        "testcase",
        classname=_xml(result.lesson),
        name="notebook execution",
        time=f"{result.seconds:.3f}",
    )
    if result.status != "graded":
        errors += 1
        ended = f"The notebook {RUN_ENDED[result.status][1]}."
        error = ET.SubElement(
            run, "error", type=result.status, message=_xml(result.execution_message or ended)
        )
        error.text = _xml(f"{ended} {cells_ran(result)}\n{result.execution_message}".strip())
    for check in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(f"{result.lesson}.{check.step}"),
            name=_xml(f"{check.kind} (line {check.line})"),
            time=f"{check.seconds:.3f}",
        )
        if not check.passed:
            failures += 1
            failure = ET.SubElement(
                case,
                "failure",
                type=lost_reason(result, check) or "check-failed",
                message=_xml(check.message),
            )
            failure.text = _xml(
                f"{check.message}\nHint: {check.hint}\nPoints: {check.points}/{check.max_points}"
            )
    suite.set("tests", str(1 + len(report.results)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", f"{result.seconds + report.seconds:.3f}")
    return suite


def _xml(text: str) -> str:
    """Text XML 1.0 can hold (see :func:`clean`)."""
    return clean(text)
