"""A run's ASSERT results as JUnit XML (`flowdesk run --junit FILE`), the format CI systems read.

One `<testsuite>` per execution: a `<testcase>` per check of every ASSERT step (classname = the
step's name, name = the check's message), with a `<failure>` carrying the readable diff when it
failed; an ASSERT step that failed before checking anything (a bad schema) is an `<error>`, one that
was skipped a `<skipped/>`; and a last test case, `execution completes`, failing with the run's
error when the run did not complete for another reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the XML is built only for --junit; a plain run's report reads assertion_counts
    import xml.etree.ElementTree as ET

ASSERT = "ASSERT"


def _seconds(step: Mapping[str, Any]) -> str:
    value = step.get("execution_time")
    return f"{float(value):.3f}" if isinstance(value, int | float) else "0"


def _cases(step: Mapping[str, Any]) -> Iterable[ET.Element]:
    import xml.etree.ElementTree as ET

    output = step.get("output_data")
    results = output.get("results") if isinstance(output, Mapping) else None
    name = str(step.get("step_name") or step.get("node_name"))
    if step.get("status") == "skipped":
        case = ET.Element("testcase", classname=name, name=name, time="0")
        ET.SubElement(case, "skipped", message="the ASSERT node did not run (its path was not taken)")
        yield case
        return
    if not isinstance(results, list):
        case = ET.Element("testcase", classname=name, name=name, time=_seconds(step))
        error = ET.SubElement(case, "error", message=str(step.get("error_message") or "no results"))
        error.text = str(step.get("error_message") or "")
        yield case
        return
    for result in results:
        case = ET.Element("testcase", classname=name, name=str(result.get("message")), time=_seconds(step))
        if not result.get("passed"):
            failure = ET.SubElement(case, "failure", message=str(result.get("check")), type="assertion")
            failure.text = str(result.get("diff") or "")
        yield case


def assertion_counts(steps: Iterable[Mapping[str, Any]]) -> tuple[int, int] | None:
    """(passed, failed) over every ASSERT step's checks; None when the run had no ASSERT step."""
    outputs = [step.get("output_data") for step in steps if step.get("node_type") == ASSERT]
    if not outputs:
        return None
    counted = [o for o in outputs if isinstance(o, Mapping)]
    return sum(int(o.get("passed") or 0) for o in counted), sum(int(o.get("failed") or 0) for o in counted)


def junit_xml(
    steps: Iterable[Mapping[str, Any]], *, suite: str, status: str, error_message: str | None = None
) -> str:
    """The JUnit XML text of one execution's ASSERT steps (`steps`: step rows as `run --json` has them)."""
    import xml.etree.ElementTree as ET

    cases = [case for step in steps if step.get("node_type") == ASSERT for case in _cases(step)]
    assertion_failed = any(case.find("failure") is not None for case in cases)
    end = ET.Element("testcase", classname=suite, name="execution completes", time="0")
    if status != "completed" and not assertion_failed:
        failure = ET.SubElement(end, "failure", message=f"the run ended {status}", type="execution")
        failure.text = error_message or ""
    cases.append(end)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(sum(case.find("failure") is not None for case in cases)),
        errors=str(sum(case.find("error") is not None for case in cases)),
        skipped=str(sum(case.find("skipped") is not None for case in cases)),
    )
    root.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
