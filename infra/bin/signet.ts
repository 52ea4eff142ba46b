#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib';
import { SignetStack } from '../lib/signet-stack';

const app = new cdk.App();

// No `env`: the stack is environment-agnostic, so `cdk synth` needs no credentials and
// makes no lookups. Account and region come from the deployment (`cdk deploy` profile).
new SignetStack(app, 'Signet', {
  description:
    'Signet - subscriber portal back end (same resources as template.yaml; infra/test.sh compares them)',
});
