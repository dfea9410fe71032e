// Batch IAM simulation for the tests: reads a JSON list of cases on stdin,
// writes the list of decisions ("Allowed", "ImplicitlyDenied", ...) on stdout.
// One Node process for every case keeps the matrix fast.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'))

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
process.stdout.write(JSON.stringify(out))
