import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { configProblems } from '../../test/config-problems.js';

describe('project storage settings', () => {
  it("refuses the server's own identity for storages by default, and reads the STS endpoint", () => {
    expect(loadConfig({}).storages).toEqual({ stsEndpoint: null, serverCredentials: false });
    expect(loadConfig({ STORAGE_SERVER_CREDENTIALS_ENABLED: 'true', AWS_ENDPOINT_URL_STS: 'https://sts.example.com/' }).storages).toEqual({ stsEndpoint: 'https://sts.example.com', serverCredentials: true });
    expect(configProblems({ STORAGE_SERVER_CREDENTIALS_ENABLED: 'maybe' })).toEqual([expect.stringMatching(/^STORAGE_SERVER_CREDENTIALS_ENABLED: must be true or false/)]);
  });

  it("refuses to allow it while the file store's bucket has no key pair of its own (that identity is the file store's)", () => {
    const bucket = { FILE_STORAGE: 's3', FILE_STORAGE_S3_BUCKET: 'lv-files', STORAGE_SERVER_CREDENTIALS_ENABLED: 'true' };
    expect(configProblems(bucket)).toEqual([expect.stringMatching(/^STORAGE_SERVER_CREDENTIALS_ENABLED: true while FILE_STORAGE=s3 has no FILE_STORAGE_S3_ACCESS_KEY_ID/)]);
    expect(configProblems({ ...bucket, FILE_STORAGE_S3_ACCESS_KEY_ID: 'id', FILE_STORAGE_S3_SECRET_ACCESS_KEY: 'secret' })).toEqual([]);
    expect(configProblems({ ...bucket, STORAGE_SERVER_CREDENTIALS_ENABLED: 'false' })).toEqual([]);
  });
});
