import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { configProblems } from '../../test/config-problems.js';

const problemsOf = (env: Record<string, string>) => configProblems(env);

describe('FILE_STORAGE settings', () => {
  it('defaults to the data folder', () => {
    const c = loadConfig({ LABELVAULT_DATA_DIR: '/srv/lv' });
    expect(c.files).toEqual({ kind: 'local', root: '/srv/lv' });
  });

  it('reads a bucket with its endpoint, prefix and key pair; path style follows a custom endpoint', () => {
    const c = loadConfig({ FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'lv-files', FILE_STORAGE_S3_PREFIX: '/team/a', FILE_STORAGE_S3_ENDPOINT: 'https://minio:9000/', FILE_STORAGE_S3_ACCESS_KEY_ID: 'id', FILE_STORAGE_S3_SECRET_ACCESS_KEY: 'secret' });
    expect(c.files).toMatchObject({ kind: 's3', bucket: 'lv-files', prefix: 'team/a/', region: 'us-east-1', endpoint: 'https://minio:9000', forcePathStyle: true, credentials: { accessKeyId: 'id' } });
    expect(c.files.kind === 's3' && c.files.credentials?.secretAccessKey.reveal()).toBe('secret');
    const aws = loadConfig({ FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'lv-files', FILE_STORAGE_S3_REGION: 'eu-west-1' });
    expect(aws.files).toMatchObject({ endpoint: null, forcePathStyle: false, credentials: null, prefix: '', region: 'eu-west-1' });
  });

  it('names each bad setting', () => {
    expect(problemsOf({ FILE_STORAGE: 's3' }).join()).toMatch(/FILE_STORAGE_S3_BUCKET: required/);
    expect(problemsOf({ FILE_STORAGE: 'gcs' }).join()).toMatch(/FILE_STORAGE/);
    expect(problemsOf({ FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'Bad_Bucket' }).join()).toMatch(/FILE_STORAGE_S3_BUCKET: must be a bucket name/);
    expect(problemsOf({ FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'ok-bucket', FILE_STORAGE_S3_ACCESS_KEY_ID: 'id' }).join()).toMatch(/FILE_STORAGE_S3_SECRET_ACCESS_KEY: required/);
    expect(problemsOf({ FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'ok-bucket', FILE_STORAGE_S3_ENDPOINT: 'minio:9000/x' }).join()).toMatch(/FILE_STORAGE_S3_ENDPOINT/);
    expect(problemsOf({ FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'ok-bucket', FILE_STORAGE_S3_PREFIX: 'a/../b' }).join()).toMatch(/FILE_STORAGE_S3_PREFIX/);
  });

  it('refuses S3 settings while FILE_STORAGE is local (every node would write its own folder)', () => {
    expect(problemsOf({ FILE_STORAGE_S3_BUCKET: 'lv-files' }).join()).toMatch(/FILE_STORAGE_S3_BUCKET: set, but FILE_STORAGE is local/);
  });

  it('wants https in production unless the store is on loopback', () => {
    const base = { NODE_ENV: 'production', FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'lv-files' };
    expect(problemsOf({ ...base, FILE_STORAGE_S3_ENDPOINT: 'http://minio:9000' }).join()).toMatch(/FILE_STORAGE_S3_ENDPOINT: must be https/);
    expect(problemsOf({ ...base, FILE_STORAGE_S3_ENDPOINT: 'http://127.0.0.1:9000' }).filter((p) => p.startsWith('FILE_STORAGE'))).toEqual([]);
  });
});
