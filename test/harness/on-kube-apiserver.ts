// The setup of jest's kube-apiserver project: the suites it runs start the real kube-apiserver
// where they ask for a test cluster (see startTestCluster).
process.env['SHOPFLOOR_TEST_API_SERVER'] = 'kube-apiserver';
