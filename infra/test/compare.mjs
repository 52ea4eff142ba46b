#!/usr/bin/env node
// Compares the CDK app (infra/) with the SAM template (template.yaml): both must describe the
// same deployment. template.yaml is compared before the SAM transform, so what is compared is
// the meaning (runtime, memory, routes, IAM actions, table keys, ...), not the raw JSON.
//
// Matching convention (template.yaml and lib/signet-stack.ts): the same logical IDs for
// Table, Key, KeyAlias, HttpApi, ApiAccessLogGroup, HttpApi5xxAlarm, Dashboard, and per
// function <Name>Function, <Name>LogGroup, <Name>ErrorsAlarm; the tag SignetFunction=<crate>.
//
// Usage: node test/compare.mjs [--sam-template FILE] [--cdk-template FILE] [--dump]
//   --cdk-template: a synthesized template (default: runs `cdk synth`); --dump: print both models.
// Exits 1 with a diff when they differ; the last line is `infra: N passed, M failed`.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const infraDir = path.resolve(here, '..');
const repoDir = path.resolve(infraDir, '..');
const argv = process.argv.slice(2);
const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const samPath = path.resolve(opt('--sam-template') ?? path.join(repoDir, 'template.yaml'));

// ------------------------------------------------------------------ loading

/** CloudFormation short-form tags (!Ref, !Sub, ...) as their long forms. */
function cfnTags() {
  const names = ['Base64', 'Cidr', 'FindInMap', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub',
    'Transform', 'And', 'Equals', 'If', 'Not', 'Or', 'Contains', 'ToJsonString', 'Length'];
  const long = (name, value) => ({ [`Fn::${name}`]: value });
  const tags = [
    { tag: '!Ref', resolve: (s) => ({ Ref: s }) },
    { tag: '!Condition', resolve: (s) => ({ Condition: s }) },
    { tag: '!GetAtt', resolve: (s) => { const i = s.indexOf('.'); return { 'Fn::GetAtt': [s.slice(0, i), s.slice(i + 1)] }; } },
    { tag: '!GetAtt', collection: 'seq', resolve: (seq) => ({ 'Fn::GetAtt': seq.toJSON() }) },
  ];
  for (const name of names) {
    tags.push({ tag: `!${name}`, resolve: (s) => long(name, s) });
    tags.push({ tag: `!${name}`, collection: 'seq', resolve: (seq) => long(name, seq.toJSON()) });
    tags.push({ tag: `!${name}`, collection: 'map', resolve: (map) => long(name, map.toJSON()) });
  }
  return tags;
}

function loadSam() {
  return YAML.parse(fs.readFileSync(samPath, 'utf8'), { customTags: cfnTags() });
}

/** Names of the function crates in template.yaml (for placeholder assets). */
function samCrates(sam) {
  return Object.values(sam.Resources)
    .filter((r) => r.Type === 'AWS::Serverless::Function')
    .map((r) => r.Metadata?.BuildProperties?.Binary ?? path.basename(r.Properties.CodeUri));
}

function synthCdk(crates) {
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_EC2_METADATA_DISABLED: 'true' };
  const lambdaDir = env.SIGNET_LAMBDA_DIR ?? path.join(repoDir, 'target', 'lambda');
  let placeholder = null;
  if (!crates.every((c) => fs.existsSync(path.join(lambdaDir, c, 'bootstrap')))) {
    // Not built yet (cargo lambda build): synthesize against placeholder bootstraps in a
    // temporary directory. They are only for this synthesis and are removed afterwards;
    // never deploy a cdk.out made this way.
    placeholder = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-lambda-'));
    for (const c of crates) {
      fs.mkdirSync(path.join(placeholder, c));
      fs.writeFileSync(path.join(placeholder, c, 'bootstrap'), '#!/bin/sh\necho placeholder >&2; exit 1\n', { mode: 0o755 });
    }
    env.SIGNET_LAMBDA_DIR = placeholder;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'signet-cdk-out-'));
  try {
    const cdk = path.join(infraDir, 'node_modules', '.bin', 'cdk');
    execFileSync(cdk, ['synth', '--quiet', '--no-notices', '-o', out], { cwd: infraDir, env, stdio: ['ignore', 'inherit', 'inherit'] });
    return JSON.parse(fs.readFileSync(path.join(out, 'Signet.template.json'), 'utf8'));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
    if (placeholder) fs.rmSync(placeholder, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ helpers

const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const sorted = (xs) => [...xs].sort();
const byType = (t, type) => Object.entries(t.Resources ?? {}).filter(([, r]) => r.Type === type);
/** The logical ID a Ref / GetAtt / Sub / Join refers to, or null. */
function refOf(v) {
  if (v && typeof v === 'object') {
    if ('Ref' in v) return v.Ref;
    if ('Fn::GetAtt' in v) return asList(v['Fn::GetAtt'])[0];
  }
  return null;
}
/** All logical IDs mentioned in a value (Ref, GetAtt, ${X} in Sub). */
function mentions(v, acc = new Set()) {
  if (typeof v === 'string') for (const m of v.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) acc.add(m[1]);
  else if (Array.isArray(v)) v.forEach((x) => mentions(x, acc));
  else if (v && typeof v === 'object') {
    const r = refOf(v);
    if (r) acc.add(r);
    Object.values(v).forEach((x) => mentions(x, acc));
  }
  return acc;
}
/** A value reduced to a comparable shape: a literal, "ref:<id>", "att:<id>.<attr>", "sub:<text>" or "expr". */
function resourceShape(v) {
  if (v === '*') return '*';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && 'Ref' in v) return `ref:${v.Ref}`;
  if (v && 'Fn::GetAtt' in v) return `att:${asList(v['Fn::GetAtt']).join('.')}`;
  if (v && 'Fn::Sub' in v) return `sub:${asList(v['Fn::Sub'])[0]}`;
  if (v && 'Fn::Join' in v) {
    // Fn::Join ["", [parts]] as the equivalent Sub text.
    const [sep, parts] = v['Fn::Join'];
    return `sub:${parts.map((p) => (typeof p === 'string' ? p : refOf(p) ? `\${${refOf(p)}${'Fn::GetAtt' in p ? '.' + p['Fn::GetAtt'][1] : ''}}` : '?')).join(sep)}`;
  }
  return 'expr';
}
/** Statements as sorted "Effect action -> resources" lines. */
function statementLines(statements) {
  const lines = [];
  for (const s of statements) {
    const resources = sorted(asList(s.Resource).map(resourceShape)).join(', ');
    for (const a of asList(s.Action)) lines.push(`${s.Effect} ${a} -> ${resources}`);
  }
  return sorted(lines);
}

// ------------------------------------------------------------------ models

/** template.yaml (pre-transform) in the comparable shape. */
function samModel(t) {
  const g = t.Globals?.Function ?? {};
  const m = { parameters: {}, functions: {}, outputs: sorted(Object.keys(t.Outputs ?? {})) };
  for (const [k, p] of Object.entries(t.Parameters ?? {}))
    m.parameters[k] = { Type: p.Type, Default: String(p.Default), AllowedValues: asList(p.AllowedValues).map(String) };
  for (const [id, r] of byType(t, 'AWS::Serverless::Function')) {
    const p = { ...g, ...r.Properties };
    const vars = { ...(g.Environment?.Variables ?? {}), ...(r.Properties.Environment?.Variables ?? {}) };
    const routes = [], problems = [], schedules = [], iamRoutes = [];
    for (const [name, e] of Object.entries(p.Events ?? {})) {
      if (e.Type === 'Schedule') { schedules.push(e.Properties.Schedule); continue; }
      if (e.Type !== 'HttpApi') { problems.push(`event ${name} of type ${e.Type}`); continue; }
      if (refOf(e.Properties.ApiId) !== 'HttpApi') problems.push(`event ${name} not on HttpApi`);
      routes.push(`${e.Properties.Method.toUpperCase()} ${e.Properties.Path}`);
      if (e.Properties.Auth?.Authorizer === 'AWS_IAM') iamRoutes.push(`${e.Properties.Method.toUpperCase()} ${e.Properties.Path}`);
    }
    const statements = [];
    for (const pol of asList(p.Policies)) {
      if (pol && Array.isArray(pol.Statement)) statements.push(...pol.Statement);
      else problems.push(`policy ${JSON.stringify(pol)} is not an inline statement list`);
    }
    m.functions[id] = {
      crate: [r.Metadata?.BuildProperties?.Binary, path.basename(p.CodeUri ?? ''), p.Tags?.SignetFunction],
      runtime: p.Runtime, architectures: asList(p.Architectures ?? ['x86_64']), handler: p.Handler,
      memory: p.MemorySize ?? 128, timeout: p.Timeout ?? 3, tracing: p.Tracing ?? 'PassThrough',
      env: sorted(Object.entries(vars).map(([k, v]) => `${k}=${resourceShape(v)}`)), routes: sorted(routes), iamRoutes: sorted(iamRoutes), iam: statementLines(statements),
      schedules: sorted(schedules), problems,
    };
  }
  return m;
}

/** The synthesized CDK template in the same shape. */
function cdkModel(t) {
  const m = { parameters: {}, functions: {}, outputs: sorted(Object.keys(t.Outputs ?? {})) };
  for (const [k, p] of Object.entries(t.Parameters ?? {})) {
    if (k === 'BootstrapVersion') continue; // CDK's own
    m.parameters[k] = { Type: p.Type, Default: String(p.Default), AllowedValues: asList(p.AllowedValues).map(String) };
  }
  const integrations = Object.fromEntries(byType(t, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => [id, refOf(r.Properties.IntegrationUri)]));
  const routesOf = {}, iamRoutesOf = {};
  for (const [, r] of byType(t, 'AWS::ApiGatewayV2::Route')) {
    const integ = [...mentions(r.Properties.Target)][0];
    (routesOf[integrations[integ]] ??= []).push(r.Properties.RouteKey);
    if (r.Properties.AuthorizationType === 'AWS_IAM') (iamRoutesOf[integrations[integ]] ??= []).push(r.Properties.RouteKey);
  }
  const schedulesOf = {};
  for (const [, r] of byType(t, 'AWS::Events::Rule'))
    for (const target of asList(r.Properties.Targets)) (schedulesOf[refOf(target.Arn)] ??= []).push(r.Properties.ScheduleExpression);
  for (const [id, r] of byType(t, 'AWS::Lambda::Function')) {
    const p = r.Properties;
    const role = refOf(p.Role);
    const statements = [], problems = [];
    for (const [, pol] of byType(t, 'AWS::IAM::Policy'))
      if (asList(pol.Properties.Roles).some((x) => refOf(x) === role)) statements.push(...pol.Properties.PolicyDocument.Statement);
    for (const pol of asList(t.Resources[role]?.Properties?.Policies)) statements.push(...pol.PolicyDocument.Statement);
    // X-Ray write access comes with Tracing: Active in SAM (AWSXrayWriteOnlyAccess) too.
    const own = statements
      .map((s) => ({ ...s, Action: asList(s.Action).filter((a) => !/^xray:Put(TraceSegments|TelemetryRecords)$/.test(a)) }))
      .filter((s) => s.Action.length > 0);
    const tag = asList(p.Tags).find((x) => x.Key === 'SignetFunction')?.Value;
    m.functions[id] = {
      crate: [tag, tag, tag],
      runtime: p.Runtime, architectures: asList(p.Architectures ?? ['x86_64']), handler: p.Handler,
      memory: p.MemorySize ?? 128, timeout: p.Timeout ?? 3, tracing: p.TracingConfig?.Mode ?? 'PassThrough',
      env: sorted(Object.entries(p.Environment?.Variables ?? {}).map(([k, v]) => `${k}=${resourceShape(v)}`)), routes: sorted(routesOf[id] ?? []), iamRoutes: sorted(iamRoutesOf[id] ?? []), iam: statementLines(own),
      schedules: sorted(schedulesOf[id] ?? []), problems,
    };
  }
  return m;
}

// ------------------------------------------------------------------ checks

let passed = 0, failed = 0;
function check(name, fields) {
  const diffs = [];
  for (const [field, sam, cdk] of fields) {
    const a = JSON.stringify(sam), b = JSON.stringify(cdk);
    if (a === b) continue;
    if (Array.isArray(sam) && Array.isArray(cdk)) {
      // Lists: say what is only on one side (or that only the order differs).
      const onlySam = sam.filter((x) => !cdk.some((y) => JSON.stringify(y) === JSON.stringify(x)));
      const onlyCdk = cdk.filter((x) => !sam.some((y) => JSON.stringify(y) === JSON.stringify(x)));
      if (onlySam.length || onlyCdk.length) {
        diffs.push(`    ${field}:\n      only in template.yaml: ${JSON.stringify(onlySam)}\n      only in cdk:           ${JSON.stringify(onlyCdk)}`);
        continue;
      }
    }
    diffs.push(`    ${field}:\n      template.yaml: ${a}\n      cdk:           ${b}`);
  }
  if (diffs.length === 0) { passed++; console.log(`ok   ${name}`); }
  else { failed++; console.log(`FAIL ${name}\n${diffs.join('\n')}`); }
}

const table = (t) => {
  const r = t.Resources.Table ?? {}, p = r.Properties ?? {};
  const attrs = Object.fromEntries(asList(p.AttributeDefinitions).map((a) => [a.AttributeName, a.AttributeType]));
  return {
    type: r.Type, billing: p.BillingMode ?? 'PROVISIONED',
    keys: asList(p.KeySchema).map((k) => `${k.AttributeName}:${k.KeyType}`),
    attributes: sorted(Object.entries(attrs).map(([k, v]) => `${k}:${v}`)),
    gsis: sorted(asList(p.GlobalSecondaryIndexes).map((g) =>
      `${g.IndexName}(${asList(g.KeySchema).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',')}) ${g.Projection?.ProjectionType}`)),
    ttl: p.TimeToLiveSpecification ? `${p.TimeToLiveSpecification.AttributeName}:${p.TimeToLiveSpecification.Enabled}` : null,
    pitr: p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
    sse: p.SSESpecification?.SSEEnabled === true,
    policies: `${r.DeletionPolicy}/${r.UpdateReplacePolicy}`,
  };
};
const key = (t) => {
  const r = t.Resources.Key ?? {}, p = r.Properties ?? {};
  const alias = Object.values(t.Resources).find((x) => x.Type === 'AWS::KMS::Alias' && refOf(x.Properties.TargetKeyId) === 'Key');
  return {
    type: r.Type, rotation: p.EnableKeyRotation === true, spec: p.KeySpec ?? 'SYMMETRIC_DEFAULT', usage: p.KeyUsage ?? 'ENCRYPT_DECRYPT',
    policyActions: sorted(asList(p.KeyPolicy?.Statement).flatMap((s) => asList(s.Action))),
    alias: alias?.Properties?.AliasName ?? null, policies: `${r.DeletionPolicy}/${r.UpdateReplacePolicy}`,
  };
};
const logGroups = (t) => Object.fromEntries(byType(t, 'AWS::Logs::LogGroup').map(([id, r]) => [id, {
  name: r.Properties.LogGroupName === undefined ? null : resourceShape(r.Properties.LogGroupName),
  retention: resourceShape(r.Properties.RetentionInDays),
}]));
const alarms = (t) => Object.fromEntries(byType(t, 'AWS::CloudWatch::Alarm').map(([id, r]) => {
  const p = r.Properties;
  return [id, `${p.Namespace} ${p.MetricName} [${asList(p.Dimensions).map((d) => `${d.Name}=${resourceShape(d.Value)}`).join(',')}] ` +
    `${p.Statistic} ${p.Period}s x${p.EvaluationPeriods} ${p.ComparisonOperator} ${p.Threshold} missing=${p.TreatMissingData}`];
}));
const samApi = (t) => {
  const p = t.Resources.HttpApi?.Properties ?? {};
  return { iamAuthorizer: p.Auth?.EnableIamAuthorizer === true, cors: p.CorsConfiguration ?? null, logs: refOf(p.AccessLogSettings?.DestinationArn), format: p.AccessLogSettings?.Format ?? null };
};
const cdkApi = (t) => {
  const api = t.Resources.HttpApi?.Properties ?? {};
  const stage = byType(t, 'AWS::ApiGatewayV2::Stage').map(([, r]) => r.Properties).find((s) => s.StageName === '$default') ?? {};
  const iam = byType(t, 'AWS::ApiGatewayV2::Route').some(([, r]) => r.Properties.AuthorizationType === 'AWS_IAM');
  return { iamAuthorizer: iam, cors: api.CorsConfiguration ?? null, logs: refOf(stage.AccessLogSettings?.DestinationArn), format: stage.AccessLogSettings?.Format ?? null };
};
const dashboard = (t) => {
  const d = t.Resources.Dashboard;
  const body = JSON.stringify(d?.Properties?.DashboardBody ?? '');
  return { type: d?.Type ?? null, namespaceSignet: body.includes('{Signet,Function,Outcome}') && body.includes('Outcome') };
};

function main() {
  const sam = loadSam();
  const cdkTemplate = opt('--cdk-template');
  const cdk = cdkTemplate ? JSON.parse(fs.readFileSync(cdkTemplate, 'utf8')) : synthCdk(samCrates(sam));
  const S = samModel(sam), C = cdkModel(cdk);
  if (argv.includes('--dump')) console.log(JSON.stringify({ sam: S, cdk: C }, null, 1));

  check('parameters', [['parameters', S.parameters, C.parameters]]);
  check('table', Object.keys(table(sam)).map((k) => [k, table(sam)[k], table(cdk)[k]]));
  check('key', Object.keys(key(sam)).map((k) => [k, key(sam)[k], key(cdk)[k]]));
  check('http api', [
    ...Object.keys(samApi(sam)).map((k) => [k, samApi(sam)[k], cdkApi(cdk)[k]]),
    ['all routes', sorted(Object.values(S.functions).flatMap((f) => f.routes)),
      sorted(byType(cdk, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey))],
  ]);
  const fnIds = sorted(new Set([...Object.keys(S.functions), ...Object.keys(C.functions)]));
  check('function list', [['functions', sorted(Object.keys(S.functions)), sorted(Object.keys(C.functions))]]);
  const samLogs = logGroups(sam), cdkLogs = logGroups(cdk);
  for (const id of fnIds) {
    const a = S.functions[id] ?? {}, b = C.functions[id] ?? {};
    const name = id.replace(/Function$/, '');
    const fields = ['crate', 'runtime', 'architectures', 'handler', 'memory', 'timeout', 'tracing', 'env', 'routes', 'iamRoutes', 'schedules', 'iam', 'problems']
      .map((k) => [k, a[k], b[k]]);
    if (a.crate && new Set(a.crate).size !== 1) fields.push(['crate (Binary, CodeUri, tag agree)', [a.crate[0]], a.crate]);
    fields.push([`${name}LogGroup`, samLogs[`${name}LogGroup`], cdkLogs[`${name}LogGroup`]]);
    fields.push([`${name}LogGroup named /aws/lambda/<function>`, `sub:/aws/lambda/\${${id}}`, cdkLogs[`${name}LogGroup`]?.name]);
    fields.push([`${name}ErrorsAlarm`, alarms(sam)[`${name}ErrorsAlarm`], alarms(cdk)[`${name}ErrorsAlarm`]]);
    check(`function ${id}`, fields);
  }
  check('log groups', [['log groups', logGroups(sam), logGroups(cdk)]]);
  check('alarms', [['alarms', alarms(sam), alarms(cdk)]]);
  check('dashboard', Object.keys(dashboard(sam)).map((k) => [k, dashboard(sam)[k], dashboard(cdk)[k]])
    .concat(fnIds.map((id) => [`mentions ${id}`, mentions(sam.Resources.Dashboard?.Properties?.DashboardBody).has(id),
      mentions(cdk.Resources.Dashboard?.Properties?.DashboardBody).has(id)])));
  check('outputs', [['outputs', S.outputs, C.outputs]]);
  const operatorPolicy = (t) => {
    const p = t.Resources.OperatorApiPolicy?.Properties?.PolicyDocument;
    return { type: t.Resources.OperatorApiPolicy?.Type ?? null, statements: statementLines(asList(p?.Statement)) };
  };
  check('operator API policy', Object.keys(operatorPolicy(sam)).map((k) => [k, operatorPolicy(sam)[k], operatorPolicy(cdk)[k]]));
  const operatorRole = (t) => {
    const p = t.Resources.OperatorRole?.Properties ?? {};
    return {
      type: t.Resources.OperatorRole?.Type ?? null,
      trust: statementLines(asList(p.AssumeRolePolicyDocument?.Statement)),
      policies: sorted(asList(p.ManagedPolicyArns).map((a) => refOf(a) ?? JSON.stringify(a))),
    };
  };
  check('operator role', Object.keys(operatorRole(sam)).map((k) => [k, operatorRole(sam)[k], operatorRole(cdk)[k]]));

  // The portal: the bucket, its policy, origin access control, the CloudFront functions and
  // policies and the distribution, property by property (intrinsics as their meaning).
  const canon = (v) => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && ['Ref', 'Fn::GetAtt', 'Fn::Sub', 'Fn::Join'].includes(keys[0])) return resourceShape(v);
      return Object.fromEntries(keys.sort().map((k) => [k, canon(v[k])]));
    }
    return String(v);
  };
  const portalIds = ['PortalBucket', 'PortalBucketPolicy', 'PortalOriginAccessControl', 'PortalPagesFunction',
    'ApiPrefixFunction', 'ApiOriginRequestPolicy', 'PortalHeadersPolicy', 'PortalDistribution'];
  const portal = (t, id) => {
    const r = t.Resources[id];
    return r ? canon({ Type: r.Type, DeletionPolicy: r.DeletionPolicy ?? null, Properties: r.Properties }) : null;
  };
  check('portal (S3, CloudFront, the /api/ behaviour)', [
    ...portalIds.map((id) => [id, portal(sam, id), portal(cdk, id)]),
    ['condition HasPortalDomain', canon(sam.Conditions?.HasPortalDomain ?? null), canon(cdk.Conditions?.HasPortalDomain ?? null)],
    ['distribution origin of /api/*', 'api', (cdk.Resources.PortalDistribution?.Properties?.DistributionConfig?.CacheBehaviors ?? [])
      .find((b) => b.PathPattern === '/api/*')?.TargetOriginId ?? null],
  ]);

  // Every sample event in events/ is for a route of template.yaml, and every route has one.
  const eventsDir = path.join(repoDir, 'events');
  const eventRoutes = fs.existsSync(eventsDir)
    ? fs.readdirSync(eventsDir).filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(eventsDir, f), 'utf8')))
      .filter((e) => e.version === '2.0').map((e) => e.routeKey)
    : [];
  check('sample events (events/*.json)', [['routes with a sample event',
    sorted(new Set(Object.values(S.functions).flatMap((f) => f.routes))), sorted(new Set(eventRoutes))]]);

  console.log(`infra: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
