import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { addPortal } from './portal';

/**
 * Resources a function's IAM statements may refer to.
 */
export interface SharedResources {
  readonly table: dynamodb.ITable;
  readonly key: kms.IKey;
  readonly caKey: kms.IKey;
}

/** Stack parameters a function's own environment may use. */
export interface FunctionParameters {
  readonly stripeSecretKey: string;
  readonly stripeWebhookSecret: string;
  readonly termsVersion: string;
  readonly sireneApiKey: string;
  readonly sireneUrl: string;
}

/**
 * One Lambda function: one entry of FUNCTIONS below.
 *
 * Logical IDs follow template.yaml: `<name>Function`, `<name>LogGroup`, `<name>ErrorsAlarm`
 * (infra/test/compare.mjs matches the two templates on them).
 */
export interface FunctionSpec {
  /** PascalCase prefix of the logical IDs, e.g. `Signup`. */
  readonly name: string;
  /** The crate under functions/ and its binary; the asset is `<lambda dir>/<crate>/bootstrap`. */
  readonly crate: string;
  readonly description: string;
  /** HTTP API routes, `METHOD /path`. */
  readonly routes: string[];
  /** Least-privilege statements of the function's role (X-Ray and logs are added by CDK). */
  readonly statements: (r: SharedResources) => iam.PolicyStatement[];
  readonly memorySize?: number;
  readonly timeoutSeconds?: number;
  /** Variables of this function only, on top of the shared ones. */
  readonly environment?: (p: FunctionParameters) => Record<string, string>;
  /** Whether its routes are authorised by IAM (the HTTP API's AWS_IAM authorizer). */
  readonly iamAuthorized?: boolean;
  /** EventBridge schedule expressions that invoke it (a function without routes). */
  readonly schedules?: string[];
}

const allow = (actions: string[], resources: string[]) =>
  new iam.PolicyStatement({ effect: iam.Effect.ALLOW, actions, resources });

/** Item reads (one or a batch)/writes; Put, Delete and ConditionCheck are also what TransactWriteItems checks. */
const tableAccess = (table: dynamodb.ITable) =>
  allow(
    ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
    [table.tableArn, `${table.tableArn}/index/*`],
  );
/** Mail from verified identities of this account and region only. */
const sendMail = () => allow(['ses:SendEmail'], [cdk.Fn.sub('arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*')]);
/**
 * Codes to phones: SNS Publish to a phone number has no resource ARN to scope to (no topic), so
 * IAM requires "*"; voice calls are authorised on the origination identity and the
 * configuration set / opt-out list it uses, all in this account and region.
 */
const sendCodes = () => [
  allow(['sns:Publish'], ['*']),
  allow(['sms-voice:SendVoiceMessage'], [cdk.Fn.sub('arn:${AWS::Partition}:sms-voice:${AWS::Region}:${AWS::AccountId}:*')]),
];

/** The functions. To add one: add an entry (and the matching block in template.yaml). */
export const FUNCTIONS: FunctionSpec[] = [
  {
    name: 'Signup',
    crate: 'signup',
    description: 'Signet - sign-up (email, verify link, profile, one-time code)',
    routes: [
      'POST /signup',
      'POST /signup/verify',
      'POST /signup/profile',
      'POST /signup/code',
      'POST /signup/confirm',
    ],
    statements: ({ table, key }) => [
      tableAccess(table),
      sendMail(),
      ...sendCodes(),
      // Envelope encryption with the Signet key only.
      allow(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn]),
    ],
  },
  {
    name: 'Login',
    crate: 'login',
    description: 'Signet - login, second factor, sessions, tokens, credential changes',
    routes: [
      'POST /login',
      'POST /login/code',
      'POST /login/code/resend',
      'POST /login/space',
      'POST /login/no-access',
      'POST /login/setup/password',
      'POST /login/setup/phone/confirm',
      'POST /login/setup/app',
      'POST /login/setup/app/confirm',
      'POST /token/refresh',
      'POST /logout',
      'POST /logout/everywhere',
      'POST /session/space',
      'GET /sessions',
      'DELETE /sessions/{id}',
      'GET /.well-known/jwks.json',
      'POST /login/google',
      'POST /reauth',
      'POST /reauth/code',
      'POST /account/password',
      'POST /account/totp',
      'POST /account/totp/confirm',
      'DELETE /account/totp',
      'POST /password/forgot',
      'POST /password/reset/start',
      'POST /password/reset',
      'POST /identifier/forgot',
    ],
    statements: ({ table, key }) => [
      tableAccess(table),
      ...sendCodes(),
      sendMail(),
      // Envelope encryption with the Signet key only (phone numbers, TOTP seeds, token keys).
      allow(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn]),
    ],
  },
  {
    name: 'EmailChange',
    crate: 'email-change',
    description: 'Signet - change of login email, second-factor phone and alternate email',
    routes: [
      'GET /account/email',
      'POST /account/email',
      'POST /account/email/verify',
      'POST /account/email/confirm',
      'POST /account/phone',
      'POST /account/phone/confirm',
      'POST /account/alternate-email',
      'POST /account/alternate-email/verify',
      'DELETE /account/alternate-email',
      'POST /login/setup/phone',
    ],
    statements: ({ table, key }) => [
      tableAccess(table),
      ...sendCodes(),
      sendMail(),
      // Envelope encryption with the Signet key only (phone numbers, TOTP seeds, token keys).
      allow(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn]),
    ],
  },
  {
    name: 'Recovery',
    crate: 'recovery',
    description: 'Signet - my subscriptions, signature recovery, certificate status',
    routes: [
      'GET /subscriptions',
      'POST /subscriptions/{id}/recovery',
      'GET /certificates/{serial}/status',
    ],
    statements: ({ table, key }) => [
      tableAccess(table),
      sendMail(),
      // The access-token keys (sealed under the Signet key) and nothing else.
      allow(['kms:Decrypt'], [key.keyArn]),
    ],
  },
  {
    name: 'Activation',
    crate: 'activation',
    description: 'Signet - signature activation (new key under KMS, certificate signed by the CA key)',
    routes: [
      'POST /activation/start',
      'POST /activation',
      'GET /security-questions',
      'GET /account/security-questions',
      'PUT /account/security-questions',
      'POST /subscriptions/{id}/pin/reset',
    ],
    statements: ({ table, key, caKey }) => [
      tableAccess(table),
      sendMail(),
      ...sendCodes(),
      // New private keys sealed, phone numbers and token keys opened: the Signet key only.
      allow(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn]),
      // Certificates signed by the authority's key; only this function may.
      allow(['kms:Sign', 'kms:GetPublicKey'], [caKey.keyArn]),
    ],
  },
  {
    name: 'Renewal',
    crate: 'renewal',
    description: 'Signet - renewal (card or bill my organisation), payment webhook, invoices and receipts',
    routes: [
      'GET /subscriptions/{id}/renewal',
      'POST /subscriptions/{id}/renewals',
      'GET /renewals/{id}',
      'POST /renewals/{id}/submit',
      'POST /renewals/{id}/cancel',
      'POST /payments/webhook',
      'GET /invoices',
      'GET /invoices/{number}',
      'GET /invoices/{number}/pdf',
      'GET /invoices/{number}/receipt',
      'GET /invoices/{number}/receipt/pdf',
    ],
    environment: (p) => ({
      SIGNET_STRIPE_SECRET_KEY: p.stripeSecretKey,
      SIGNET_PAYMENT_WEBHOOK_SECRET: p.stripeWebhookSecret,
      SIGNET_TERMS_VERSION: p.termsVersion,
    }),
    statements: ({ table, key }) => [
      tableAccess(table),
      // Receipts and invoice notices.
      sendMail(),
      // The access-token keys (sealed under the Signet key) and nothing else.
      allow(['kms:Decrypt'], [key.keyArn]),
    ],
  },
  {
    name: 'Organisations',
    crate: 'organisations',
    description: "Signet - organisations' customer spaces, members, roles, invitations",
    routes: [
      'POST /organisations',
      'GET /organisations/registry/{siret}',
      'GET /organisation',
      'POST /organisation/terms',
      'GET /organisation/members',
      'PUT /organisation/members/{person_id}/roles',
      'DELETE /organisation/members/{person_id}',
      'POST /organisation/members/{person_id}/second-factor/reset',
      'POST /organisation/legal-representative',
      'POST /organisation/billing-contact',
      'GET /organisation/invitations',
      'POST /organisation/invitations',
      'POST /organisation/invitations/{id}/resend',
      'DELETE /organisation/invitations/{id}',
      'POST /invitations/accept',
      'POST /invitations/join',
    ],
    environment: (p) => ({
      SIGNET_SIRENE_API_KEY: p.sireneApiKey,
      SIGNET_SIRENE_URL: p.sireneUrl,
      SIGNET_TERMS_VERSION: p.termsVersion,
    }),
    statements: ({ table, key }) => [
      tableAccess(table),
      sendMail(),
      // The administrator's direct phone sealed; the access-token keys opened.
      allow(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn]),
    ],
  },
  {
    name: 'Operator',
    crate: 'operator',
    description: "Signet - the provider's operator API (IAM-authorised)",
    routes: [
      'POST /operator/people/search',
      'POST /operator/people/{person_id}/second-factor/reset',
      'POST /operator/people/{person_id}/sessions/end',
      'POST /operator/organisations/search',
      'PUT /operator/organisations/{space_id}/invoicing',
      'POST /operator/organisations/{space_id}/invitations',
    ],
    iamAuthorized: true,
    environment: (p) => ({
      SIGNET_TERMS_VERSION: p.termsVersion,
      // The only principals taken for operators: sessions of the operator role.
      SIGNET_OPERATOR_PRINCIPALS: cdk.Fn.sub('arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/${OperatorRole}/'),
    }),
    statements: ({ table, key }) => [tableAccess(table), sendMail(), allow(['kms:Decrypt'], [key.keyArn])],
  },
  {
    name: 'Reminders',
    crate: 'reminders',
    description: 'Signet - renewal reminders 30, 7 and 1 days before a term ends (daily)',
    routes: [],
    schedules: ['cron(0 6 * * ? *)'],
    timeoutSeconds: 300,
    statements: ({ table }) => [tableAccess(table), sendMail()],
  },
];

/** Same defaults as the Globals section of template.yaml. */
const FUNCTION_DEFAULTS = { memorySize: 256, timeoutSeconds: 10 };

/** Same access-log format as template.yaml (compared by infra/test/compare.mjs). */
export const ACCESS_LOG_FORMAT =
  '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",' +
  '"routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength",' +
  '"latency":"$context.responseLatency","integrationLatency":"$context.integrationLatency",' +
  '"integrationError":"$context.integrationErrorMessage","userAgent":"$context.identity.userAgent"}';

const LOG_RETENTION_VALUES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Directory holding `<crate>/bootstrap` (cargo lambda build output). */
export function lambdaDir(): string {
  return process.env.SIGNET_LAMBDA_DIR ?? path.join(__dirname, '..', '..', 'target', 'lambda');
}

/** Gives the construct's CloudFormation resource the logical ID used in template.yaml. */
function logicalId(construct: Construct, id: string): void {
  (construct.node.defaultChild as cdk.CfnResource).overrideLogicalId(id);
}

export class SignetStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    // ------------------------------------------------------------ parameters
    const portalUrl = new cdk.CfnParameter(this, 'PortalUrl', {
      type: 'String',
      default: 'https://portal.example.com',
      description: 'Public URL of the portal; links in emails point here.',
    });
    const mailFrom = new cdk.CfnParameter(this, 'MailFrom', {
      type: 'String',
      default: 'no-reply@example.com',
      description: 'Sender address of emails (an SES-verified identity).',
    });
    const voiceOrigination = new cdk.CfnParameter(this, 'VoiceOriginationIdentity', {
      type: 'String',
      default: '',
      description:
        'Origination identity (phone number, pool or their ARN) for voice calls through AWS End User ' +
        'Messaging SMS and Voice v2; empty disables voice codes.',
    });
    const googleClientId = new cdk.CfnParameter(this, 'GoogleClientId', {
      type: 'String',
      default: '',
      description:
        'OAuth client id of the portal at Google (the audience of Google ID tokens); empty disables ' +
        '"Sign in with Google".',
    });
    const stripeSecretKey = new cdk.CfnParameter(this, 'StripeSecretKey', {
      type: 'String',
      noEcho: true,
      default: '',
      description: 'Stripe secret API key of the renewal function (Checkout Sessions); empty refuses card payments.',
    });
    const stripeWebhookSecret = new cdk.CfnParameter(this, 'StripeWebhookSecret', {
      type: 'String',
      noEcho: true,
      default: '',
      description:
        'Signing secret (whsec_...) of the Stripe webhook endpoint POST /payments/webhook; empty refuses every webhook.',
    });
    const termsVersion = new cdk.CfnParameter(this, 'TermsVersion', {
      type: 'String',
      default: '2026-01',
      description: 'Version of the terms of sale a buyer must accept to renew.',
    });
    const sireneApiKey = new cdk.CfnParameter(this, 'SireneApiKey', {
      type: 'String',
      noEcho: true,
      default: '',
      description:
        'INSEE Sirene API integration key (X-INSEE-Api-Key-Integration) of the organisations function; empty: ' +
        "registrations take the entity's details as typed.",
    });
    const sireneUrl = new cdk.CfnParameter(this, 'SireneUrl', {
      type: 'String',
      default: 'https://api.insee.fr/api-sirene/3.11',
      description: 'Base URL of the INSEE Sirene API.',
    });
    const edgeSecret = new cdk.CfnParameter(this, 'EdgeSecret', {
      type: 'String',
      noEcho: true,
      minLength: 32,
      description:
        'A random value (32 characters or more) CloudFront sends to the API with every /api/ request ' +
        "(X-Signet-Edge). The API then takes the viewer's address from CloudFront-Viewer-Address, so that " +
        "limits per source count people, not CloudFront's edge servers (for example: openssl rand -hex 32).",
    });
    const logRetentionDays = new cdk.CfnParameter(this, 'LogRetentionDays', {
      type: 'Number',
      default: '30',
      allowedValues: LOG_RETENTION_VALUES.map(String),
      description: "Retention of the functions' and the API's logs, in days.",
    });
    // A log group whose retention is the LogRetentionDays parameter (LogGroup's `retention`
    // prop only takes literal values).
    const logGroup = (id: string, name?: string): logs.LogGroup => {
      const group = new logs.LogGroup(this, id, {
        logGroupName: name,
        removalPolicy: cdk.RemovalPolicy.DESTROY,
      });
      const cfn = group.node.defaultChild as logs.CfnLogGroup;
      cfn.retentionInDays = logRetentionDays.valueAsNumber;
      cfn.overrideLogicalId(id);
      return group;
    };

    // ------------------------------------------------------------ data
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    table.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    logicalId(table, 'Table');

    // Symmetric key for envelope encryption; the default key policy (aws-cdk-lib v2) gives the
    // account root kms:*. Retained: deleting it would make the retained table's secrets unreadable.
    const key = new kms.Key(this, 'Key', {
      description: 'Signet - envelope encryption of secrets at rest',
      keySpec: kms.KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT,
      enableKeyRotation: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    logicalId(key, 'Key');
    const alias = new kms.Alias(this, 'KeyAlias', { aliasName: 'alias/signet', targetKey: key });
    logicalId(alias, 'KeyAlias');
    // The certificate authority's key: P-256, its private half never leaves KMS.
    const caKey = new kms.Key(this, 'CaKey', {
      description: 'Signet - certificate authority signing key',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    logicalId(caKey, 'CaKey');
    const caAlias = new kms.Alias(this, 'CaKeyAlias', { aliasName: 'alias/signet-ca', targetKey: caKey });
    logicalId(caAlias, 'CaKeyAlias');

    // ------------------------------------------------------------ API
    const accessLogs = logGroup('ApiAccessLogGroup');
    // CORS off: no corsPreflight.
    const api = new apigwv2.HttpApi(this, 'HttpApi', { createDefaultStage: false });
    logicalId(api, 'HttpApi');
    const stage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    const api5xx = new cloudwatch.Alarm(this, 'HttpApi5xxAlarm', {
      alarmDescription: 'Signet HTTP API returned 5xx responses',
      metric: stage.metricServerError({ period: cdk.Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    logicalId(api5xx, 'HttpApi5xxAlarm');

    // ------------------------------------------------------------ functions
    const environment: Record<string, string> = {
      SIGNET_TABLE: table.tableName,
      SIGNET_KMS_KEY_ID: key.keyArn,
      SIGNET_CA_KMS_KEY_ID: caKey.keyArn,
      SIGNET_MAIL_FROM: mailFrom.valueAsString,
      SIGNET_PORTAL_URL: portalUrl.valueAsString,
      SIGNET_VOICE_ORIGINATION: voiceOrigination.valueAsString,
      SIGNET_TOKEN_AUDIENCE: 'signet-api',
      SIGNET_ACCESS_TOKEN_TTL: '600',
      SIGNET_GOOGLE_CLIENT_ID: googleClientId.valueAsString,
      SIGNET_EDGE_SECRET: edgeSecret.valueAsString,
      RUST_LOG: 'info',
    };
    const functions: lambda.Function[] = [];
    for (const spec of FUNCTIONS) {
      const fn = new lambda.Function(this, `${spec.name}Function`, {
        description: spec.description,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.ARM_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(path.join(lambdaDir(), spec.crate)),
        memorySize: spec.memorySize ?? FUNCTION_DEFAULTS.memorySize,
        timeout: cdk.Duration.seconds(spec.timeoutSeconds ?? FUNCTION_DEFAULTS.timeoutSeconds),
        tracing: lambda.Tracing.ACTIVE,
        environment: {
          ...environment,
          ...(spec.environment?.({
            stripeSecretKey: stripeSecretKey.valueAsString,
            stripeWebhookSecret: stripeWebhookSecret.valueAsString,
            termsVersion: termsVersion.valueAsString,
            sireneApiKey: sireneApiKey.valueAsString,
            sireneUrl: sireneUrl.valueAsString,
          }) ?? {}),
        },
      });
      logicalId(fn, `${spec.name}Function`);
      cdk.Tags.of(fn).add('SignetFunction', spec.crate);
      for (const statement of spec.statements({ table, key, caKey })) fn.addToRolePolicy(statement);

      // Named after the function, as the log group Lambda would create on first invocation.
      logGroup(`${spec.name}LogGroup`, `/aws/lambda/${fn.functionName}`);

      const integration = new HttpLambdaIntegration(`${spec.name}Integration`, fn);
      for (const route of spec.routes) {
        const [method, routePath] = route.split(' ');
        api.addRoutes({
          path: routePath,
          methods: [method as apigwv2.HttpMethod],
          integration,
          authorizer: spec.iamAuthorized ? new HttpIamAuthorizer() : undefined,
        });
      }

      (spec.schedules ?? []).forEach((expression, i) => {
        const rule = new events.Rule(this, `${spec.name}Schedule${i}`, {
          schedule: events.Schedule.expression(expression),
          targets: [new eventTargets.LambdaFunction(fn)],
        });
        logicalId(rule, `${spec.name}Schedule${i}`);
      });

      const errors = new cloudwatch.Alarm(this, `${spec.name}ErrorsAlarm`, {
        alarmDescription: `Signet ${spec.crate} function errors`,
        metric: fn.metricErrors({ period: cdk.Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      logicalId(errors, `${spec.name}ErrorsAlarm`);
      functions.push(fn);
    }

    // ------------------------------------------------------------ dashboard
    // Requests: the embedded-metric-format metric every step emits (namespace Signet,
    // dimensions Function and Outcome).
    const period = cdk.Duration.minutes(5);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Invocations and errors',
            width: 12,
            left: functions.flatMap((fn, i) => [
              fn.metricInvocations({ period, statistic: 'Sum', label: `${FUNCTIONS[i].crate} invocations` }),
              fn.metricErrors({ period, statistic: 'Sum', label: `${FUNCTIONS[i].crate} errors` }),
            ]),
          }),
          new cloudwatch.GraphWidget({
            title: 'Duration (p50, p99)',
            width: 12,
            left: functions.flatMap((fn, i) => [
              fn.metricDuration({ period, statistic: 'p50', label: `${FUNCTIONS[i].crate} p50` }),
              fn.metricDuration({ period, statistic: 'p99', label: `${FUNCTIONS[i].crate} p99` }),
            ]),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Step outcomes (Signet/Requests)',
            width: 12,
            left: [
              new cloudwatch.MathExpression({
                expression: `SEARCH('{Signet,Function,Outcome} MetricName="Requests"', 'Sum', 300)`,
                usingMetrics: {},
                label: '',
                period,
              }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'HTTP API',
            width: 12,
            left: [
              stage.metricCount({ period, statistic: 'Sum' }),
              stage.metricClientError({ period, statistic: 'Sum' }),
              stage.metricServerError({ period, statistic: 'Sum' }),
            ],
          }),
        ],
      ],
    });
    logicalId(dashboard, 'Dashboard');

    // What an operator's IAM role or group attaches to call the operator API (and nothing
    // else of it): every call is then audited under that principal.
    const operatorPolicy = new iam.ManagedPolicy(this, 'OperatorApiPolicy', {
      description: 'Invoke Signet\'s operator API',
      statements: [
        allow(['execute-api:Invoke'], [cdk.Fn.sub('arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*/*/operator/*')]),
      ],
    });
    (operatorPolicy.node.defaultChild as iam.CfnManagedPolicy).overrideLogicalId('OperatorApiPolicy');
    // The role operators assume to call the operator API: the operator function takes no
    // other principal for an operator.
    const operatorRole = new iam.Role(this, 'OperatorRole', {
      description: 'Signet operators assume this role to call the operator API',
      assumedBy: new iam.AccountRootPrincipal(),
      managedPolicies: [operatorPolicy],
    });
    (operatorRole.node.defaultChild as iam.CfnRole).overrideLogicalId('OperatorRole');

    // ------------------------------------------------------------ outputs
    new cdk.CfnOutput(this, 'OperatorApiPolicyArn', {
      description: 'The managed policy that allows calling the operator API (attached to the operator role)',
      value: operatorPolicy.managedPolicyArn,
    });
    new cdk.CfnOutput(this, 'OperatorRoleArn', {
      description: 'The role operators assume to call the operator API',
      value: operatorRole.roleArn,
    });
    addPortal(this, edgeSecret);
    new cdk.CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: stage.url });
    new cdk.CfnOutput(this, 'TableName', { description: 'DynamoDB table', value: table.tableName });
    new cdk.CfnOutput(this, 'KeyArn', { description: 'KMS key for envelope encryption', value: key.keyArn });
  }
}
