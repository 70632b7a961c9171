// Alarms (dead letters, Lambda errors and throttles, the API's 5xx rate), an optional e-mail topic for them, and
// the audit trail's saved queries and metric: all read from metrics and PHI-free logs.
import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The API's 5xx share over five minutes that raises its alarm (two periods out of three: no single blip). */
export const API_5XX_RATE = 0.05;
export const AUDIT_METRIC_NAMESPACE = 'DicomApi/Audit';
/** CloudWatch: a metric-math alarm may watch at most ten metrics. */
export const MAX_METRICS_PER_ALARM = 10;

/** The Logs Insights query an auditor runs over the audited functions' logs (README "Security"). */
export const AUDIT_QUERY: logs.QueryStringProps = {
  fields: [
    '@timestamp',
    'action',
    'route',
    'file_id',
    'principal_type',
    'principal',
    'status',
    'source_ip',
    'requestId',
  ],
  filterStatements: ['audit = 1'],
  sort: '@timestamp desc',
  limit: 1000,
};

/** Requests API Gateway refused before any function ran (missing or wrong key, unsigned, denied), from the access log. */
export const REFUSED_QUERY: logs.QueryStringProps = {
  fields: ['@timestamp', 'method', 'resource', 'status', 'errorType', 'apiKeyId', 'userArn', 'sourceIp'],
  filterStatements: ['status in ["401", "403"]'],
  sort: '@timestamp desc',
  limit: 1000,
};

export interface MonitoringProps {
  /** Every application function, by a name for its alarms. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  readonly deadLetterQueue: sqs.IQueue;
  readonly stage: apigateway.Stage;
  /** The log groups that hold audit lines (the audited routes' functions). */
  readonly auditLogGroups: readonly logs.ILogGroup[];
  readonly accessLogs: logs.ILogGroup;
  /** Where alarms are mailed (`-c alarmEmail=...`); without it the alarms only show in the console. */
  readonly alarmEmail?: string;
}

export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly topic?: sns.Topic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    if (props.alarmEmail) {
      // Alarm messages name metrics, never patient data; CloudWatch cannot publish to an AWS-managed-key topic.
      this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'DICOM API alarms', enforceSSL: true });
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const period = Duration.minutes(5);
    const atLeastOne = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };

    // A file whose processing failed every attempt (its record is marked FAILED; someone should look why). Messages
    // sent, not visible: the consumer empties the queue within seconds, so a visible count is 0 at nearly every
    // sample. Lambda's on-failure destination calls SendMessage, which NumberOfMessagesSent counts (only an SQS
    // redrive from a source queue would not).
    this.add(
      props.deadLetterQueue
        .metricNumberOfMessagesSent({ period, statistic: cloudwatch.Stats.SUM })
        .createAlarm(this, 'DeadLetters', {
          ...atLeastOne,
          alarmDescription: 'Processor events failed all attempts and were sent to the dead-letter queue',
        }),
    );
    // Errors and throttles of every function, ten functions to an alarm (the most metrics one alarm may watch): an
    // alarm costs the same whatever it watches, so per-function alarms were most of an idle stack's bill. The alarm's
    // description names its functions; the console graphs each one's metric (HTTP handlers turn bugs into 500s; these
    // catch crashes, timeouts, init failures and the processor's own errors).
    const functions = [...props.functions];
    for (let first = 0; first < functions.length; first += MAX_METRICS_PER_ALARM) {
      const group = functions.slice(first, first + MAX_METRICS_PER_ALARM);
      const names = group.map(([name]) => name).join(', ');
      const suffix = functions.length > MAX_METRICS_PER_ALARM ? String(first / MAX_METRICS_PER_ALARM + 1) : '';
      for (const [kind, metricOf, what] of [
        [
          'Errors',
          (fn: lambda.IFunction) => fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
          'invocation errors',
        ],
        [
          'Throttles',
          (fn: lambda.IFunction) => fn.metricThrottles({ period, statistic: cloudwatch.Stats.SUM }),
          'throttled invocations',
        ],
      ] as const) {
        const usingMetrics = Object.fromEntries(group.map(([, fn], index) => [`m${index}`, metricOf(fn)]));
        const sum = new cloudwatch.MathExpression({
          // A function not invoked has no data point: counted as 0, so one idle function cannot hide another's errors.
          expression: `SUM([${Object.keys(usingMetrics)
            .map((id) => `FILL(${id}, 0)`)
            .join(', ')}])`,
          usingMetrics,
          period,
          label: `${kind} of ${group.length} functions`,
        });
        this.add(
          sum.createAlarm(this, `Function${kind}${suffix}`, {
            ...atLeastOne,
            alarmDescription: `Lambda ${what} in: ${names}`,
          }),
        );
      }
    }
    // The average of 5XXError is the share of requests that failed on the server side.
    this.add(
      props.stage.metricServerError({ period, statistic: cloudwatch.Stats.AVERAGE }).createAlarm(this, 'Api5xxRate', {
        threshold: API_5XX_RATE,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `More than ${API_5XX_RATE * 100}% of API requests answered 5xx`,
      }),
    );

    // The audit trail, queryable as is: a saved Logs Insights query over every audited log group, and a
    // count per action (a spike of deletes or downloads shows on a graph, and can be alarmed on).
    new logs.QueryDefinition(this, 'AuditTrailQuery', {
      queryDefinitionName: 'dicom-api/audit-trail',
      queryString: new logs.QueryString(AUDIT_QUERY),
      logGroups: [...props.auditLogGroups],
    });
    props.auditLogGroups.forEach((group, index) => {
      new logs.MetricFilter(this, `AuditEvents${index}`, {
        logGroup: group,
        filterPattern: logs.FilterPattern.booleanValue('$.audit', true),
        metricNamespace: AUDIT_METRIC_NAMESPACE,
        metricName: 'AuditEvents',
        metricValue: '1',
        dimensions: { action: '$.action' },
      });
    });
    new logs.QueryDefinition(this, 'AccessLogQuery', {
      queryDefinitionName: 'dicom-api/access-refused',
      queryString: new logs.QueryString(REFUSED_QUERY),
      logGroups: [props.accessLogs],
    });
  }

  private add(alarm: cloudwatch.Alarm): void {
    if (this.topic) alarm.addAlarmAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
