// cdk-nag's rule packs over plain CloudFormation templates, offline, in one Node process.
//
//   node security/cdk_nag.mjs [--packs AwsSolutions,HIPAA.Security,NIST.800.53.R5] [--json] [TEMPLATE...]
//
// Default: every build/**/*.template.json except build/taskcat/ (those are
// throwaway test variants). Each template is loaded with CfnInclude into a
// CDK app, the packs run as aspects, and the findings are read from the
// synthesised assembly. Suppressions live in each resource's Metadata
// (cdk_nag.rules_to_suppress, each with its reason), written by the builders.
// Exit 1 when any unsuppressed error remains; warnings are printed only.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

process.env.CDK_DISABLE_VERSION_CHECK = '1'
const { App, Aspects, Stack, cloudformation_include: cfnInclude } = await import('aws-cdk-lib')
const { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } = await import('cdk-nag')

const PACKS = {
  AwsSolutions: () => new AwsSolutionsChecks({ verbose: true }),
  'HIPAA.Security': () => new HIPAASecurityChecks({ verbose: true }),
  'NIST.800.53.R5': () => new NIST80053R5Checks({ verbose: true }),
}

function templatesUnder(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) {
      if (relative('build', path) !== 'taskcat') out.push(...templatesUnder(path))
    } else if (name.endsWith('.template.json')) out.push(path)
  }
  return out
}

const args = process.argv.slice(2)
const json = args.includes('--json')
const packsArg = args.indexOf('--packs')
const packs = packsArg >= 0 ? args[packsArg + 1].split(',') : Object.keys(PACKS)
const given = args.filter((a, i) => !a.startsWith('--') && !(packsArg >= 0 && i === packsArg + 1))
const templates = given.length ? given : templatesUnder('build')
for (const pack of packs) if (!PACKS[pack]) throw new Error(`unknown pack ${pack}; known: ${Object.keys(PACKS)}`)

const started = Date.now()
const outdir = mkdtempSync(join(tmpdir(), 'cdk-nag-'))
const findings = []
try {
  const app = new App({ outdir, analyticsReporting: false })
  const stacks = templates.map((templateFile, i) => {
    const stack = new Stack(app, `T${i}`)
    new cfnInclude.CfnInclude(stack, 'Template', { templateFile })
    return [stack, templateFile]
  })
  for (const pack of packs) Aspects.of(app).add(PACKS[pack]())
  const assembly = app.synth()
  for (const [stack, templateFile] of stacks) {
    for (const message of assembly.getStackArtifact(stack.artifactId).messages) {
      const level = message.level
      if (level !== 'error' && level !== 'warning') continue
      const text = String(message.entry.data)
      const rule = text.split(':')[0]
      const logicalId = message.id.split('/').slice(3, 4)[0] ?? message.id
      findings.push({ template: templateFile, logicalId, rule, level, message: text })
    }
  }
} finally {
  rmSync(outdir, { recursive: true, force: true })
}

const errors = findings.filter((f) => f.level === 'error')
if (json) {
  process.stdout.write(JSON.stringify(findings, null, 2) + '\n')
} else {
  for (const f of findings) console.log(`${f.template}: ${f.logicalId}: ${f.rule} (${f.level}): ${f.message}`)
  console.log(`cdk-nag: ${errors.length} error(s), ${findings.length - errors.length} warning(s) in ` +
    `${templates.length} templates (${packs.join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
process.exit(errors.length ? 1 : 0)
