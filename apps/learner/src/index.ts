export { learnerService } from './service';
