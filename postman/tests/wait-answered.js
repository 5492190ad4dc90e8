// Transfer and barge need a call in progress; the demo rings for 3 s first. Poll the call (at
// most 10 s) so that this request and the control requests after it see an answered call.
const url = pm.variables.replaceIn('{{baseUrl}}/v1/units/{{unit}}/calls/{{callId}}');
const auth = { key: 'Authorization', value: 'Bearer ' + pm.variables.get('bearerToken') };
const deadline = Date.now() + 10000;
(function poll() {
  pm.sendRequest({ url, method: 'GET', header: [auth] }, (err, res) => {
    const status = !err && res.code === 200 ? res.json().status : null;
    if (status === 'in-progress' || Date.now() > deadline) return;
    setTimeout(poll, 250);
  });
})();
