/**
 * The people who exist in every provider sandbox: who approves on the
 * sandbox's "phone". Markers in their names make them easy to find in tests.
 */
export interface SandboxUser {
  key: string;
  nickname: string;
  avatarUrl: string;
  /** The person's cross-app id (WeChat unionid, DingTalk unionId). */
  unionid: string;
}

export const SANDBOX_USERS: readonly SandboxUser[] = [
  {
    key: 'lihua',
    nickname: '李华 (sandbox)',
    avatarUrl: 'https://sandbox.invalid/avatar/lihua/132',
    unionid: 'oUnionSandboxLiHua0000000001',
  },
  {
    key: 'wangfang',
    nickname: '王芳 (sandbox)',
    avatarUrl: 'https://sandbox.invalid/avatar/wangfang/132',
    unionid: 'oUnionSandboxWangFang00000002',
  },
  {
    key: 'zhangwei',
    nickname: '张伟 (sandbox)',
    avatarUrl: 'https://sandbox.invalid/avatar/zhangwei/132',
    unionid: 'oUnionSandboxZhangWei0000003',
  },
];
