/**
 * DoctorReport: what `doctor` found, how it is printed (text for people, JSON for scripts) and the exit code.
 *
 * A check is a list of findings, each pass / warn / fail / unknown (could not check: the finding names the
 * access that is missing) / skip (does not apply to this installation), with the fix where there is one. A
 * check's status is its worst finding. Exit code: 1 when any check failed (a problem was found), else 2 when
 * any could not be checked, else 0 (warnings and skips included). docs/troubleshooting.md lists every
 * finding with its fix, by the check's number.
 */

export type Status = "pass" | "warn" | "fail" | "unknown" | "skip"

export interface Finding {
  readonly status: Status
  readonly message: string
  /** What to do about it (fail / warn / unknown). */
  readonly fix?: string
}

export interface CheckResult {
  /** 1-5, as in docs/troubleshooting.md. */
  readonly id: number
  readonly title: string
  readonly status: Status
  readonly findings: ReadonlyArray<Finding>
}

export interface Report {
  readonly webhook: string
  readonly namespace: string
  readonly checks: ReadonlyArray<CheckResult>
  readonly status: Status
  readonly exitCode: 0 | 1 | 2
}

const Severity: Record<Status, number> = { skip: 0, pass: 1, warn: 2, unknown: 3, fail: 4 }

/** worst: the most severe status of a list; an empty list passes. */
export const worst = (statuses: ReadonlyArray<Status>): Status =>
  statuses.reduce<Status>((a, b) => (Severity[b] > Severity[a] ? b : a), statuses.length === 0 ? "pass" : "skip")

export const pass = (message: string): Finding => ({ status: "pass", message })
export const warn = (message: string, fix: string): Finding => ({ status: "warn", message, fix })
export const fail = (message: string, fix: string): Finding => ({ status: "fail", message, fix })
export const unknown = (message: string, fix: string): Finding => ({ status: "unknown", message, fix })
export const skip = (message: string): Finding => ({ status: "skip", message })

/** check: a result whose status is the worst of its findings. */
export const check = (id: number, title: string, findings: ReadonlyArray<Finding>): CheckResult => ({
  id,
  title,
  status: worst(findings.map((f) => f.status)),
  findings
})

/** exitCode: 1 a problem found, 2 something could not be checked, 0 otherwise. */
export const exitCode = (checks: ReadonlyArray<CheckResult>): 0 | 1 | 2 =>
  checks.some((c) => c.status === "fail") ? 1 : checks.some((c) => c.status === "unknown") ? 2 : 0

export const report = (webhook: string, namespace: string, checks: ReadonlyArray<CheckResult>): Report => ({
  webhook,
  namespace,
  checks,
  status: worst(checks.map((c) => c.status)),
  exitCode: exitCode(checks)
})

const Marks: Record<Status, string> = { pass: "PASS", warn: "WARN", fail: "FAIL", unknown: "????", skip: "SKIP" }

/** renderText: one block per check, one line per finding, the fix indented under it. */
export const renderText = (result: Report): string => {
  const lines = [`flyte-pod-webhook doctor: ${result.webhook} (test Pod namespace ${result.namespace})`, ""]
  for (const c of result.checks) {
    lines.push(`[${Marks[c.status]}] ${c.id}. ${c.title}`)
    for (const f of c.findings) {
      const [first = "", ...rest] = f.message.split("\n")
      lines.push(`       ${f.status.padEnd(7)} ${first}`, ...rest.map((line) => `               ${line}`))
      if (f.fix !== undefined && f.status !== "pass") lines.push(`               fix: ${f.fix}`)
    }
  }
  const counts = (["pass", "warn", "fail", "unknown", "skip"] as const)
    .map((s) => `${result.checks.filter((c) => c.status === s).length} ${s}`)
    .join(", ")
  const verdict = result.exitCode === 0
    ? "no problem found"
    : result.exitCode === 1
    ? "problems found (exit 1)"
    : "some checks could not run (exit 2): grant what the ???? lines name"
  lines.push("", `${counts}: ${verdict}`, "Each finding is explained in docs/troubleshooting.md.")
  return lines.join("\n")
}

/** renderJson: the report as one JSON document (`-o json`). */
export const renderJson = (result: Report): string => JSON.stringify(result, null, 2)
