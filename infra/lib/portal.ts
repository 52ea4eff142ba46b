import * as cdk from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * The portal, as template.yaml's "portal" section (the same logical IDs and properties,
 * compared by infra/test/compare.mjs): the portal's files in a private bucket read by
 * CloudFront through origin access control, and a distribution whose default behaviour
 * serves them (a page path is index.html) and whose /api/* behaviour reaches the HTTP API
 * (a CloudFront function removes the prefix), with one response-headers policy.
 */
export function addPortal(stack: cdk.Stack, edgeSecret: cdk.CfnParameter): void {
  const portalDomainName = new cdk.CfnParameter(stack, 'PortalDomainName', {
    type: 'String',
    default: '',
    description:
      "The portal's own domain name on CloudFront (for example portal.example.com, with PortalCertificateArn); " +
      "empty: the distribution's domain (then set PortalUrl to https://<the PortalDomain output> and deploy again).",
  });
  const portalCertificateArn = new cdk.CfnParameter(stack, 'PortalCertificateArn', {
    type: 'String',
    default: '',
    description: 'ACM certificate (in us-east-1) of PortalDomainName.',
  });
  const hasDomain = new cdk.CfnCondition(stack, 'HasPortalDomain', {
    expression: cdk.Fn.conditionNot(cdk.Fn.conditionEquals(portalDomainName.valueAsString, '')),
  });

  const bucket = new s3.CfnBucket(stack, 'PortalBucket', {
    publicAccessBlockConfiguration: {
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    ownershipControls: { rules: [{ objectOwnership: 'BucketOwnerEnforced' }] },
    bucketEncryption: {
      serverSideEncryptionConfiguration: [{ serverSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    },
    versioningConfiguration: { status: 'Enabled' },
  });
  bucket.cfnOptions.deletionPolicy = cdk.CfnDeletionPolicy.RETAIN;
  bucket.cfnOptions.updateReplacePolicy = cdk.CfnDeletionPolicy.RETAIN;

  new s3.CfnBucketPolicy(stack, 'PortalBucketPolicy', {
    bucket: cdk.Fn.ref('PortalBucket'),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'CloudFrontReads',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: cdk.Fn.sub('${PortalBucket.Arn}/*'),
          Condition: {
            StringEquals: {
              'AWS:SourceArn': cdk.Fn.sub(
                'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${PortalDistribution}',
              ),
            },
          },
        },
        {
          Sid: 'TlsOnly',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [cdk.Fn.getAtt('PortalBucket', 'Arn'), cdk.Fn.sub('${PortalBucket.Arn}/*')],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    },
  });

  new cloudfront.CfnOriginAccessControl(stack, 'PortalOriginAccessControl', {
    originAccessControlConfig: {
      name: cdk.Fn.sub('${AWS::StackName}-portal'),
      description: "Signet - CloudFront reads the portal's bucket",
      originAccessControlOriginType: 's3',
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
    },
  });

  new cloudfront.CfnFunction(stack, 'PortalPagesFunction', {
    name: cdk.Fn.sub('${AWS::StackName}-portal-pages'),
    autoPublish: true,
    functionConfig: { comment: 'Signet - a portal page path serves index.html', runtime: 'cloudfront-js-2.0' },
    functionCode: [
      'function handler(event) {',
      '  var request = event.request;',
      "  var last = request.uri.split('/').pop();",
      "  if (last.indexOf('.') === -1) {",
      "    request.uri = '/index.html';",
      '  }',
      '  return request;',
      '}',
      '',
    ].join('\n'),
  });

  new cloudfront.CfnFunction(stack, 'ApiPrefixFunction', {
    name: cdk.Fn.sub('${AWS::StackName}-api-prefix'),
    autoPublish: true,
    functionConfig: { comment: 'Signet - removes the /api prefix before the HTTP API', runtime: 'cloudfront-js-2.0' },
    functionCode: [
      'function handler(event) {',
      '  var request = event.request;',
      '  request.uri = request.uri.substring(4);',
      '  return request;',
      '}',
      '',
    ].join('\n'),
  });

  new cloudfront.CfnOriginRequestPolicy(stack, 'ApiOriginRequestPolicy', {
    originRequestPolicyConfig: {
      name: cdk.Fn.sub('${AWS::StackName}-api'),
      comment: 'Signet - what the HTTP API receives from the browser',
      headersConfig: {
        headerBehavior: 'whitelist',
        headers: ['Accept', 'Accept-Language', 'Content-Type', 'Origin', 'User-Agent', 'CloudFront-Viewer-Address'],
      },
      cookiesConfig: { cookieBehavior: 'all' },
      queryStringsConfig: { queryStringBehavior: 'all' },
    },
  });

  new cloudfront.CfnResponseHeadersPolicy(stack, 'PortalHeadersPolicy', {
    responseHeadersPolicyConfig: {
      name: cdk.Fn.sub('${AWS::StackName}-portal'),
      comment: 'Signet - security headers of the portal and the API',
      securityHeadersConfig: {
        contentSecurityPolicy: {
          contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
            "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAgeSec: 63072000, includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: 'DENY', override: true },
        referrerPolicy: { referrerPolicy: 'no-referrer', override: true },
      },
    },
  });

  const distribution = new cloudfront.CfnDistribution(stack, 'PortalDistribution', {
    distributionConfig: {
      comment: 'Signet - the portal at /, the API under /api/',
      enabled: true,
      httpVersion: 'http2and3',
      ipv6Enabled: true,
      priceClass: 'PriceClass_100',
      defaultRootObject: 'index.html',
      aliases: cdk.Fn.conditionIf(hasDomain.logicalId, [portalDomainName.valueAsString], cdk.Aws.NO_VALUE) as unknown as string[],
      viewerCertificate: cdk.Fn.conditionIf(
        hasDomain.logicalId,
        { AcmCertificateArn: portalCertificateArn.valueAsString, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' },
        { CloudFrontDefaultCertificate: true },
      ) as cloudfront.CfnDistribution.ViewerCertificateProperty,
      origins: [
        {
          id: 'portal',
          domainName: cdk.Fn.getAtt('PortalBucket', 'RegionalDomainName').toString(),
          originAccessControlId: cdk.Fn.getAtt('PortalOriginAccessControl', 'Id').toString(),
          s3OriginConfig: { originAccessIdentity: '' },
        },
        {
          id: 'api',
          domainName: cdk.Fn.sub('${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}'),
          customOriginConfig: { originProtocolPolicy: 'https-only', originSslProtocols: ['TLSv1.2'] },
          originCustomHeaders: [{ headerName: 'X-Signet-Edge', headerValue: edgeSecret.valueAsString }],
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: 'portal',
        viewerProtocolPolicy: 'redirect-to-https',
        allowedMethods: ['GET', 'HEAD'],
        compress: true,
        cachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
        responseHeadersPolicyId: cdk.Fn.ref('PortalHeadersPolicy'),
        functionAssociations: [
          { eventType: 'viewer-request', functionArn: cdk.Fn.getAtt('PortalPagesFunction', 'FunctionARN').toString() },
        ],
      },
      cacheBehaviors: [
        {
          pathPattern: '/api/*',
          targetOriginId: 'api',
          viewerProtocolPolicy: 'https-only',
          allowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
          compress: true,
          cachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          originRequestPolicyId: cdk.Fn.ref('ApiOriginRequestPolicy'),
          responseHeadersPolicyId: cdk.Fn.ref('PortalHeadersPolicy'),
          functionAssociations: [
            { eventType: 'viewer-request', functionArn: cdk.Fn.getAtt('ApiPrefixFunction', 'FunctionARN').toString() },
          ],
        },
      ],
    },
  });
  distribution.addMetadata('cfn-lint', { config: { ignore_checks: ['W1030'] } });
  // The certificate is chosen by HasPortalDomain (Fn::If): exactly one of the two is set.
  cdk.Validations.of(distribution).acknowledge({
    id: 'CloudFormation-Validate::F3014',
    reason: 'ViewerCertificate is an Fn::If between an ACM certificate and the default certificate',
  });

  new cdk.CfnOutput(stack, 'PortalBucketName', {
    description: "The bucket of the portal's files (aws s3 sync portal/ s3://<this>/ --delete)",
    value: cdk.Fn.ref('PortalBucket'),
  });
  new cdk.CfnOutput(stack, 'PortalDistributionId', {
    description: 'The CloudFront distribution (invalidate /* after copying new portal files)',
    value: cdk.Fn.ref('PortalDistribution'),
  });
  new cdk.CfnOutput(stack, 'PortalDomain', {
    description: "The distribution's domain name (the portal's URL without PortalDomainName)",
    value: cdk.Fn.getAtt('PortalDistribution', 'DomainName').toString(),
  });
}
