// Batch IAM simulation for the tests: reads JSON lists of cases on stdin, one list per line,
// and writes each list's decisions ("Allowed", "ImplicitlyDenied", ...) as one line on stdout.
// One Node process per test worker serves every batch: loading the simulator costs more than
// most batches (tests/iam_support.py starts it once and keeps it).
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

async function decide(cases) {
  const out = []
  for (const c of cases) {
    const result = await runSimulation(
      {
        identityPolicies: [{ name: 'role-policy', policy: c.policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        // KMS needs the key policy too: IAM rights count only where it delegates.
        resourcePolicy: c.resourcePolicy ?? undefined,
        request: {
          principal: c.principal,
          action: c.action,
          resource: { resource: c.resource, accountId: c.accountId },
          contextVariables: c.context ?? {},
        },
      },
      {},
    )
    if (result.resultType === 'error') {
      out.push({ decision: 'Error', errors: result.errors })
    } else {
      out.push({ decision: result.overallResult })
    }
  }
  return out
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim()) process.stdout.write(JSON.stringify(await decide(JSON.parse(line))) + '\n')
}
