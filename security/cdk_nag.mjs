// cdk-nag's rule packs over plain CloudFormation templates, offline, in one Node process.
//
//   node security/cdk_nag.mjs [--packs AwsSolutions,HIPAA.Security,NIST.800.53.R5] [--json] [--with-build] [TEMPLATE...]
//
// Default: every build/**/*.template.json except build/taskcat/ (those are
// throwaway test variants); --with-build: those and the TEMPLATEs. Each template is loaded with CfnInclude into its
// own Stack of one CDK App, the packs run as aspects, and the findings are
// read from the synthesised assembly's messages (never from stdout).
//
// Suppressions live in each resource's Metadata, written by the builders
// (templates_src/stacks/suppressions.py), e.g.
//   "Metadata": {"cdk_nag": {"rules_to_suppress": [
//     {"id": "HIPAA.Security-IAMNoInlinePolicy", "reason": "at least 10 characters"},
//     {"id": "AwsSolutions-IAM5", "reason": "...", "applies_to": ["Resource::*", {"regex": "/^Action::dynamodb:Get.*$/g"}]}]}}
// `applies_to` matches a granular finding (the text between the brackets of
// `AwsSolutions-IAM5[Resource::*]`) exactly, or by {"regex": "/.../flags"}
// (a bare "/.../" string is matched literally). Template-level Metadata is
// not carried over by CfnInclude: suppress on each resource.
//
// Output: one line per unsuppressed finding
//   TEMPLATE: LOGICAL_ID: RULE_ID (error|warning): [FINDING] message
// then `cdk-nag: N error(s), M warning(s) in K templates`; --json prints the
// findings as a JSON list instead ([] when clean). Exit 1 when any
// unsuppressed error remains (warnings are printed only), 2 on bad usage.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

process.env.CDK_DISABLE_VERSION_CHECK = '1'
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true'
// aws-cdk-lib's own CloudFormation validation (stderr warnings, a report file)
// is not cdk-nag and triples the run time; cfn-lint covers it (make lint).
process.env.CDK_VALIDATION = 'false'
const { App, Aspects, Stack, cloudformation_include: cfnInclude } = await import('aws-cdk-lib')
const { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } = await import('cdk-nag')

// reports: false -- no CSV report files; the annotations are all we read.
const PACKS = {
  AwsSolutions: () => new AwsSolutionsChecks({ verbose: true, reports: false }),
  'HIPAA.Security': () => new HIPAASecurityChecks({ verbose: true, reports: false }),
  'NIST.800.53.R5': () => new NIST80053R5Checks({ verbose: true, reports: false }),
}
const USAGE = `usage: node security/cdk_nag.mjs [--packs ${Object.keys(PACKS).join(',')}] [--json] [--with-build] [TEMPLATE...]`

function usage(problem) {
  console.error(`cdk_nag.mjs: ${problem}\n${USAGE}`)
  process.exit(2)
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

let json = false
let packs = Object.keys(PACKS)
const given = []
let withBuild = false
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i]
  if (arg === '--json') json = true
  else if (arg === '--packs' || arg.startsWith('--packs=')) {
    const value = arg === '--packs' ? argv[++i] : arg.slice('--packs='.length)
    if (!value) usage('--packs needs a comma-separated list')
    packs = value.split(',').filter(Boolean)
  } else if (arg === '--with-build') {
    withBuild = true
  } else if (arg === '-h' || arg === '--help') {
    console.log(USAGE)
    process.exit(0)
  } else if (arg.startsWith('-')) usage(`unknown option ${arg}`)
  else given.push(arg)
}
for (const pack of packs) if (!PACKS[pack]) usage(`unknown pack ${pack}`)
for (const file of given) if (!existsSync(file)) usage(`no such template ${file}`)
const built = existsSync('build') ? templatesUnder('build') : []
const templates = given.length ? (withBuild ? [...built, ...given] : given) : built
if (!templates.length) usage('no templates (run make synth, or name them)')

// `RULE[FINDING]: info explanation` (verbose); FINDING may itself hold brackets.
const MESSAGE = /^([A-Za-z0-9.-]+)(?:\[(.*?)\])?: ([\s\S]*)$/

// One App for all templates (a Stack each): ~2x faster than an App per
// template. If synthesis throws (e.g. a malformed suppression: an id with a
// [finding], a reason under 10 characters), each template is re-run in its
// own App so the failure is reported against the template that caused it.
function nag(files) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-nag-'))
  const found = []
  try {
    const app = new App({ outdir, analyticsReporting: false })
    const stacks = []
    files.forEach((templateFile, i) => {
      const stack = new Stack(app, `T${i}`)
      try {
        new cfnInclude.CfnInclude(stack, 'Template', { templateFile })
        stacks.push([stack, templateFile])
      } catch (error) {
        app.node.tryRemoveChild(stack.node.id)
        found.push(failure(templateFile, 'LoadError', error))
      }
    })
    for (const pack of packs) Aspects.of(app).add(PACKS[pack]())
    const assembly = app.synth()
    for (const [stack, templateFile] of stacks) {
      const prefix = `/${stack.node.path}/Template/`
      for (const { level, id, entry } of assembly.getStackArtifact(stack.artifactId).messages) {
        if (level !== 'error' && level !== 'warning') continue
        const text = String(entry.data).trim()
        const [, rule, finding, message] = text.match(MESSAGE) ?? [null, 'CDK', null, text]
        const logicalId = id.startsWith(prefix) ? id.slice(prefix.length) : id
        found.push({ template: templateFile, logicalId, rule, finding: finding ?? null, level,
          message: message.replace(/\s+/g, ' ') })
      }
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
  return found
}

function failure(template, rule, error) {
  return { template, logicalId: '-', rule, finding: null, level: 'error', message: String(error?.message ?? error).replace(/\s+/g, ' ') }
}

const started = Date.now()
let findings
try {
  findings = nag(templates)
} catch {
  findings = []
  for (const templateFile of templates) {
    try {
      findings.push(...nag([templateFile]))
    } catch (error) {
      findings.push(failure(templateFile, 'SynthError', error))
    }
  }
}

const errors = findings.filter((f) => f.level === 'error').length
if (json) {
  process.stdout.write(JSON.stringify(findings, null, 2) + '\n')
} else {
  for (const f of findings) {
    const finding = f.finding === null ? '' : `[${f.finding}] `
    console.log(`${f.template}: ${f.logicalId}: ${f.rule} (${f.level}): ${finding}${f.message}`)
  }
  console.log(`cdk-nag: ${errors} error(s), ${findings.length - errors} warning(s) in ${templates.length} templates`)
  console.error(`cdk-nag: packs ${packs.join(', ')}; ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
// exitCode, not exit(): exit() would cut off stdout still queued for a pipe (> 64 KiB).
process.exitCode = errors ? 1 : 0
